package dev.isthmus.cli;

import picocli.CommandLine.Option;

/** --json and --help, which every command takes. */
final class StandardOptions {
    @Option(names = "--json", order = 90, description = "end the output with one line holding one JSON object")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = 91, description = "print this help and exit")
    boolean help;
}
