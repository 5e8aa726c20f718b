package dev.isthmus.cli;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sub-command's arguments: {@code --name value}, {@code --name=value}, boolean flags and
 * positional words. Every option must be declared by the command; an unknown one, a missing
 * value or a malformed number is a {@link UsageException}.
 */
final class Options {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positionals = new ArrayList<>();

    private Options(String command) {
        this.command = command;
    }

    /**
     * @param valued options that take a value (without the leading dashes)
     * @param booleans options that are flags
     */
    static Options parse(String command, String[] args, Set<String> valued, Set<String> booleans) {
        Options options = new Options(command);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.equals("--")) {
                options.positionals.add(arg);
                continue;
            }
            String name = arg.substring(2);
            String value = null;
            int equals = name.indexOf('=');
            if (equals >= 0) {
                value = name.substring(equals + 1);
                name = name.substring(0, equals);
            }
            if (booleans.contains(name)) {
                if (value != null) {
                    throw new UsageException(command + ": --" + name + " takes no value");
                }
                options.flags.add(name);
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException(command + ": --" + name + " needs a value");
                    }
                    value = args[++i];
                }
                options.values.put(name, value);
            } else {
                throw new UsageException(command + ": unknown option --" + name + " (see isthmus " + command + " --help)");
            }
        }
        return options;
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback, int min, int max) {
        String text = values.get(name);
        if (text == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(text.trim());
            if (value < min || value > max) {
                throw new UsageException(command + ": --" + name + " must be between " + min + " and " + max + ", got " + value);
            }
            return value;
        } catch (NumberFormatException bad) {
            throw new UsageException(command + ": --" + name + " expects an integer, got '" + text + "'");
        }
    }

    long longValue(String name, long fallback) {
        String text = values.get(name);
        if (text == null) {
            return fallback;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException bad) {
            throw new UsageException(command + ": --" + name + " expects an integer, got '" + text + "'");
        }
    }

    double decimal(String name, double fallback, double min, double max) {
        String text = values.get(name);
        if (text == null) {
            return fallback;
        }
        try {
            double value = Double.parseDouble(text.trim());
            if (!(value >= min && value <= max)) {
                throw new UsageException(command + ": --" + name + " must be between " + min + " and " + max + ", got " + text);
            }
            return value;
        } catch (NumberFormatException bad) {
            throw new UsageException(command + ": --" + name + " expects a number, got '" + text + "'");
        }
    }

    List<String> positionals() {
        return positionals;
    }
}
