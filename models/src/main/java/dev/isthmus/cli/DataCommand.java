package dev.isthmus.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus data}: commands about datasets; its one sub-command is {@code inspect}. */
@Command(name = "data", header = "look at a dataset before training on it",
        synopsisHeading = "%nUsage: ", customSynopsis = "isthmus data inspect DIR [OPTIONS]",
        description = "See isthmus data inspect --help for its options.",
        commandListHeading = "%nCommands:%n", subcommands = DataInspectCommand.class)
final class DataCommand {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;
}
