package dev.isthmus.cli;

import java.io.PrintStream;

/** One sub-command of {@code isthmus}: picocli fills its option fields, then {@link Main} runs it. */
interface Subcommand {
    /**
     * Runs the command. With {@code --json}, the last line written to {@code out} is one JSON object.
     *
     * @return the exit status: 0 success, 1 failure (2, bad usage, is thrown as {@link UsageException})
     */
    int run(PrintStream out, PrintStream err) throws Exception;
}
