package dev.isthmus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code isthmus}: the command line. Exit status 0 on success, 2 on bad usage, 1 on failure,
 * each failure with a one-line reason on standard error. picocli parses and validates the
 * options and writes the help; each command's {@link Subcommand#run} does the work.
 */
@Command(name = "isthmus",
        header = "isthmus — deep-learning training for Java on OpenBLAS, cuBLAS and cuDNN",
        synopsisHeading = "%nUsage: ",
        customSynopsis = "isthmus COMMAND [OPTIONS]    (isthmus COMMAND --help for its options)%n",
        commandListHeading = "%nCommands:%n",
        subcommands = {InfoCommand.class, SummaryCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class,
                DataCommand.class, BenchCommand.class, ExportCommand.class, PlotCommand.class, HelpCommand.class},
        footerHeading = "%n",
        footer = {"Every command takes --json: its last line of output is then one JSON object.",
                "Exit status: 0 success, 1 failure, 2 bad usage."})
public final class Main {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this overview and exit")
    private boolean help;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line and returns its exit status (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine line = commandLine();
        // Colours (when a terminal shows them) only on the real standard output, never into a caller's stream.
        line.setColorScheme(CommandLine.Help.defaultColorScheme(out == System.out ? CommandLine.Help.Ansi.AUTO
                : CommandLine.Help.Ansi.OFF));
        PrintWriter helpOut = new PrintWriter(out, true);
        line.setOut(helpOut);
        line.setErr(new PrintWriter(err, true));
        ParseResult leaf;
        try {
            ParseResult parsed = line.parseArgs(args);
            Integer helpStatus = CommandLine.executeHelpRequest(parsed);
            if (helpStatus != null) {
                helpOut.flush();
                return helpStatus;
            }
            leaf = parsed;
            while (leaf.hasSubcommand()) {
                leaf = leaf.subcommand();
            }
        } catch (ParameterException usage) {
            err.println(usageError(usage));
            return 2;
        }
        if (!(leaf.commandSpec().userObject() instanceof Subcommand command)) {
            // No command at all (or `data` without `inspect`): that level's overview, as bad usage.
            out.print(leaf.commandSpec().commandLine().getUsageMessage());
            return 2;
        }
        String name = leaf.commandSpec().name();
        try {
            return command.run(out, err);
        } catch (UsageException usage) {
            err.println("isthmus " + usage.getMessage());
            return 2;
        } catch (Exception | OutOfMemoryError | LinkageError failure) {
            err.println("isthmus " + name + ": " + oneLine(failure));
            if (System.getenv("ISTHMUS_DEBUG") != null) {
                failure.printStackTrace(err);
            }
            return 1;
        }
    }

    /**
     * The parser of {@code isthmus} and its commands. Repeating an option keeps the last value,
     * and an argument starting with @ is a word, not a file of arguments. The summary command's
     * help ends with the zoo, which is known only at run time.
     */
    static CommandLine commandLine() {
        CommandLine line = new CommandLine(new Main());
        line.setOverwrittenOptionsAllowed(true);
        line.setExpandAtFiles(false);
        List<CommandLine> commands = new ArrayList<>(line.getSubcommands().values());
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            // One layout for every command's --help: blank lines between header, usage, description and lists.
            command.getCommandSpec().usageMessage().synopsisHeading("%nUsage: ").descriptionHeading("%n")
                    .parameterListHeading("%n").optionListHeading("%nOptions:%n");
            commands.addAll(command.getSubcommands().values()); // and the commands under it (data inspect)
        }
        line.getSubcommands().get("summary").getCommandSpec().usageMessage().footer(SummaryCommand.modelTable());
        return line;
    }

    /** picocli's complaint as one line naming the command, with its suggestion for a mistyped name. */
    static String usageError(ParameterException usage) {
        CommandLine where = usage.getCommandLine();
        String command = where.getCommandSpec().qualifiedName();
        if (usage instanceof UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
            String argument = unmatched.getUnmatched().getFirst();
            List<String> suggestions = unmatched.getSuggestions();
            String guess = suggestions.isEmpty() ? "" : "did you mean " + String.join(" or ", suggestions) + "? ";
            if (argument.startsWith("-")) {
                return command + ": unknown option " + argument.split("=", 2)[0] + " (" + guess + "see " + command + " --help)";
            }
            if (where.getParent() == null) {
                return "isthmus: unknown command '" + argument + "' (" + guess + "commands: "
                        + String.join(", ", where.getSubcommands().keySet()) + ")";
            }
            return command + ": unexpected argument '" + argument + "' (see " + command + " --help)";
        }
        return command + ": " + oneLine(usage);
    }

    static String oneLine(Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            message = failure.getClass().getSimpleName();
        }
        return message.replace('\n', ' ');
    }
}
