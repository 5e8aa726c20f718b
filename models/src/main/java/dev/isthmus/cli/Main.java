package dev.isthmus.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code isthmus}: the command line. Exit status 0 on success, 2 on bad usage, 1 on failure,
 * each failure with a one-line reason on standard error.
 */
public final class Main {
    private static final List<Command> COMMANDS = List.of(new InfoCommand(), new SummaryCommand(), new TrainCommand(),
            new EvalCommand(), new BenchCommand());

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line and returns its exit status (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(overview());
            return args.length == 0 ? 2 : 0;
        }
        Command command = COMMANDS.stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (command == null) {
            err.println("isthmus: unknown command '" + args[0] + "' (commands: "
                    + String.join(", ", COMMANDS.stream().map(Command::name).toList()) + ")");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            out.print(command.help());
            return 0;
        }
        try {
            return command.run(rest, out, err);
        } catch (UsageException usage) {
            err.println("isthmus " + usage.getMessage());
            return 2;
        } catch (Exception | OutOfMemoryError | LinkageError failure) {
            err.println("isthmus " + command.name() + ": " + oneLine(failure));
            if (System.getenv("ISTHMUS_DEBUG") != null) {
                failure.printStackTrace(err);
            }
            return 1;
        }
    }

    static String oneLine(Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            message = failure.getClass().getSimpleName();
        }
        return message.replace('\n', ' ');
    }

    private static String overview() {
        StringBuilder text = new StringBuilder("""
                isthmus — deep-learning training for Java on OpenBLAS, cuBLAS and cuDNN

                Usage: isthmus COMMAND [OPTIONS]    (isthmus COMMAND --help for its options)

                Commands:
                """);
        for (Command command : COMMANDS) {
            text.append(String.format("  %-9s %s%n", command.name(), command.summary()));
        }
        text.append("""

                Every command takes --json: its last line of output is then one JSON object.
                Exit status: 0 success, 1 failure, 2 bad usage.
                """);
        return text.toString();
    }
}
