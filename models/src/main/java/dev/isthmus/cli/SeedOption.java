package dev.isthmus.cli;

import picocli.CommandLine.Option;

/** --seed: the one seed behind initial weights, shuffling and random or synthetic data. */
final class SeedOption {
    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", order = 30,
            description = "random seed for weights, shuffling and synthetic data (default: ${DEFAULT-VALUE})")
    long value;
}
