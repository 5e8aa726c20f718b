package dev.isthmus.cli;

import java.io.PrintStream;

/** One sub-command of {@code isthmus}. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The full --help text. */
    String help();

    /**
     * Runs the command. With {@code --json}, the last line written to {@code out} is one JSON object.
     *
     * @return the exit status: 0 success, 1 failure (2, bad usage, is thrown as {@link UsageException})
     */
    int run(String[] args, PrintStream out, PrintStream err) throws Exception;
}
