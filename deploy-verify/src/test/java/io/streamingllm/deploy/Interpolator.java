package io.streamingllm.deploy;

import java.util.Map;

/**
 * Compose variable interpolation: {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-default}} (unset or
 * empty), {@code ${VAR-default}} (unset), {@code ${VAR:?message}} / {@code ${VAR?message}} (error),
 * {@code ${VAR:+alt}} / {@code ${VAR+alt}}, nested in defaults, and {@code $$} for a literal
 * {@code $}. The same syntax is what bash expands, so it also resolves shell snippets.
 */
public final class Interpolator {
    private final Map<String, String> env;

    public Interpolator(Map<String, String> env) {
        this.env = env;
    }

    public static String interpolate(String text, Map<String, String> env) {
        return new Interpolator(env).apply(text);
    }

    public String apply(String text) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 >= text.length()) {
                out.append(c);
                i++;
                continue;
            }
            char next = text.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '{') {
                int close = matchingBrace(text, i + 1);
                out.append(expandBraced(text.substring(i + 2, close), text));
                i = close + 1;
            } else if (Character.isLetter(next) || next == '_') {
                int end = i + 1;
                while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
                    end++;
                }
                out.append(env.getOrDefault(text.substring(i + 1, end), ""));
                i = end;
            } else {
                throw new ComposeException("invalid interpolation format in \"" + text + "\": a '$' not followed by a name; write $$ for a literal $");
            }
        }
        return out.toString();
    }

    private static int matchingBrace(String text, int open) {
        int depth = 0;
        for (int j = open; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return j;
            }
        }
        throw new ComposeException("invalid interpolation format in \"" + text + "\": unclosed ${");
    }

    private String expandBraced(String body, String whole) {
        int n = 0;
        while (n < body.length() && (Character.isLetterOrDigit(body.charAt(n)) || body.charAt(n) == '_')) {
            n++;
        }
        String name = body.substring(0, n);
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
            throw new ComposeException("invalid interpolation format in \"" + whole + "\": bad variable name in ${" + body + "}");
        }
        String value = env.get(name);
        String rest = body.substring(n);
        if (rest.isEmpty()) {
            return value == null ? "" : value;
        }
        boolean colon = rest.startsWith(":");
        String op = colon ? rest.substring(0, Math.min(2, rest.length())) : rest.substring(0, 1);
        String arg = rest.substring(op.length());
        boolean missing = value == null || (colon && value.isEmpty());
        return switch (op) {
            case ":-", "-" -> missing ? apply(arg) : value;
            case ":+", "+" -> missing ? "" : apply(arg);
            case ":?", "?" -> {
                if (missing) {
                    String msg = apply(arg);
                    throw new ComposeException("required variable " + name + " is missing a value" + (msg.isEmpty() ? "" : ": " + msg));
                }
                yield value;
            }
            default -> throw new ComposeException("invalid interpolation format in \"" + whole + "\": unknown operator in ${" + body + "}");
        };
    }
}
