package dev.isthmus.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Range checks for numeric options, called from the options' setters so that each option's range
 * sits next to its declaration; a value out of range is picocli's usage error (exit status 2).
 */
final class Bounds {
    private Bounds() {
    }

    static int check(CommandSpec command, String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw outside(command, option, min, max, Integer.toString(value));
        }
        return value;
    }

    static double check(CommandSpec command, String option, double value, double min, double max) {
        if (!(value >= min && value <= max)) { // NaN fails too
            throw outside(command, option, min, max, Double.toString(value));
        }
        return value;
    }

    private static ParameterException outside(CommandSpec command, String option, Object min, Object max, String got) {
        return new ParameterException(command.commandLine(), option + " must be between " + min + " and " + max + ", got " + got);
    }
}
