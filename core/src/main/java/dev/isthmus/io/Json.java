package dev.isthmus.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer for the few places Isthmus speaks JSON: safetensors headers,
 * checkpoint metadata and the command line's {@code --json} output. Values are {@code Map}
 * (insertion-ordered), {@code List}, {@code String}, {@code Double}/{@code Long}, {@code Boolean}
 * and {@code null}. The reader refuses anything malformed with the byte offset of the problem and
 * bounds nesting depth, so hostile input cannot overflow the stack.
 */
public final class Json {
    private static final int MAX_DEPTH = 64;

    private Json() {
    }

    /** Thrown for malformed JSON; {@link #offset()} is where reading stopped. */
    public static final class ParseException extends IllegalArgumentException {
        /** The character offset of the problem. */
        private final int offset;

        ParseException(String message, int offset) {
            super(message + " at offset " + offset);
            this.offset = offset;
        }

        /** {@return the character offset of the problem} */
        public int offset() {
            return offset;
        }
    }

    // ---------------------------------------------------------------- writing

    /**
     * {@return {@code value} (Map, List, String, Number, Boolean or null) as JSON text}
     *
     * @param value the value
     */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case String text -> writeString(text, out);
            case Boolean bool -> out.append(bool);
            case Double number -> writeDouble(number, out);
            case Float number -> writeDouble(number.doubleValue(), out);
            case Number number -> out.append(number.longValue());
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    writeString(String.valueOf(entry.getKey()), out);
                    out.append(':');
                    write(entry.getValue(), out);
                }
                out.append('}');
            }
            case Iterable<?> items -> {
                out.append('[');
                boolean first = true;
                for (Object item : items) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    write(item, out);
                }
                out.append(']');
            }
            case int[] ints -> {
                out.append('[');
                for (int i = 0; i < ints.length; i++) {
                    out.append(i == 0 ? "" : ",").append(ints[i]);
                }
                out.append(']');
            }
            case long[] longs -> {
                out.append('[');
                for (int i = 0; i < longs.length; i++) {
                    out.append(i == 0 ? "" : ",").append(longs[i]);
                }
                out.append(']');
            }
            default -> writeString(value.toString(), out);
        }
    }

    private static void writeDouble(double number, StringBuilder out) {
        if (!Double.isFinite(number)) {
            out.append("null"); // JSON has no NaN or Infinity
        } else if (number == Math.rint(number) && Math.abs(number) < 1e15) {
            out.append((long) number);
        } else {
            out.append(number);
        }
    }

    private static void writeString(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    // ---------------------------------------------------------------- reading

    /**
     * {@return the value of a JSON text: Map, List, String, Double, Long, Boolean or null}
     *
     * @param text the text
     */
    public static Object parse(String text) {
        Reader reader = new Reader(text);
        reader.skipSpace();
        Object value = reader.value(0);
        reader.skipSpace();
        if (reader.position < text.length()) {
            throw new ParseException("unexpected text after the JSON value", reader.position);
        }
        return value;
    }

    /**
     * Parses text that must be a JSON object.
     *
     * @param text the text
     * @return the object's entries, in order
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map<?, ?>)) {
            throw new ParseException("expected a JSON object", 0);
        }
        return (Map<String, Object>) value;
    }

    private static final class Reader {
        private final String text;
        private int position;

        Reader(String text) {
            this.text = text;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw new ParseException("JSON nested deeper than " + MAX_DEPTH + " levels", position);
            }
            if (position >= text.length()) {
                throw new ParseException("unexpected end of JSON", position);
            }
            char c = text.charAt(position);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw new ParseException("unexpected character '" + printable(c) + "'", position);
                }
            };
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> map = new LinkedHashMap<>();
            position++;
            skipSpace();
            if (peek() == '}') {
                position++;
                return map;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw new ParseException("expected a string key", position);
                }
                int keyAt = position;
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                if (map.containsKey(key)) {
                    throw new ParseException("duplicate key \"" + key + "\"", keyAt);
                }
                map.put(key, value(depth + 1));
                skipSpace();
                char next = peek();
                position++;
                if (next == '}') {
                    return map;
                }
                if (next != ',') {
                    throw new ParseException("expected ',' or '}'", position - 1);
                }
            }
        }

        private List<Object> array(int depth) {
            List<Object> list = new ArrayList<>();
            position++;
            skipSpace();
            if (peek() == ']') {
                position++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value(depth + 1));
                skipSpace();
                char next = peek();
                position++;
                if (next == ']') {
                    return list;
                }
                if (next != ',') {
                    throw new ParseException("expected ',' or ']'", position - 1);
                }
            }
        }

        private String string() {
            int start = position;
            position++;
            StringBuilder out = new StringBuilder();
            while (true) {
                if (position >= text.length()) {
                    throw new ParseException("unterminated string", start);
                }
                char c = text.charAt(position++);
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    throw new ParseException("control character in string", position - 1);
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (position >= text.length()) {
                    throw new ParseException("unterminated escape", position);
                }
                char escape = text.charAt(position++);
                switch (escape) {
                    case '"' -> out.append('"');
                    case '\\' -> out.append('\\');
                    case '/' -> out.append('/');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (position + 4 > text.length()) {
                            throw new ParseException("truncated \\u escape", position);
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int digit = Character.digit(text.charAt(position + i), 16);
                            if (digit < 0) {
                                throw new ParseException("bad \\u escape", position + i);
                            }
                            code = code * 16 + digit;
                        }
                        position += 4;
                        out.append((char) code);
                    }
                    default -> throw new ParseException("bad escape '\\" + printable(escape) + "'", position - 1);
                }
            }
        }

        private Object number() {
            int start = position;
            if (peek() == '-') {
                position++;
            }
            digits();
            boolean integral = true;
            if (position < text.length() && text.charAt(position) == '.') {
                integral = false;
                position++;
                digits();
            }
            if (position < text.length() && (text.charAt(position) == 'e' || text.charAt(position) == 'E')) {
                integral = false;
                position++;
                if (position < text.length() && (text.charAt(position) == '+' || text.charAt(position) == '-')) {
                    position++;
                }
                digits();
            }
            String literal = text.substring(start, position);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooLarge) {
                    return Double.parseDouble(literal);
                }
            }
            return Double.parseDouble(literal);
        }

        private void digits() {
            int start = position;
            while (position < text.length() && Character.isDigit(text.charAt(position)) && text.charAt(position) < 128) {
                position++;
            }
            if (position == start) {
                throw new ParseException("expected a digit", position);
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, position)) {
                throw new ParseException("unexpected token", position);
            }
            position += word.length();
            return value;
        }

        private char peek() {
            if (position >= text.length()) {
                throw new ParseException("unexpected end of JSON", position);
            }
            return text.charAt(position);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new ParseException("expected '" + c + "'", position);
            }
            position++;
        }

        void skipSpace() {
            while (position < text.length()) {
                char c = text.charAt(position);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    return;
                }
                position++;
            }
        }

        private static String printable(char c) {
            return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
        }
    }
}
