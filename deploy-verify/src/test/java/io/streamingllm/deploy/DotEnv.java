package io.streamingllm.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The env-file format compose reads ({@code env_file}, the project {@code .env}) in the subset that
 * is also valid bash (our run script sources the same file): {@code KEY=value}, optional
 * {@code export }, single or double quotes, {@code #} comments and blank lines.
 */
public final class DotEnv {
    private DotEnv() {
    }

    public static Map<String, String> read(Path file) {
        try {
            return parse(Files.readAllLines(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, String> parse(List<String> lines) {
        Map<String, String> vars = new LinkedHashMap<>();
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring("export ".length()).strip();
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ComposeException("unexpected line in env file: \"" + raw + "\" (expected KEY=value)");
            }
            vars.put(line.substring(0, eq).strip(), value(line.substring(eq + 1)));
        }
        return vars;
    }

    private static String value(String v) {
        if (v.length() >= 2 && (v.charAt(0) == '"' || v.charAt(0) == '\'')) {
            int close = v.indexOf(v.charAt(0), 1);
            if (close > 0) {
                return v.substring(1, close);
            }
        }
        int comment = v.indexOf(" #");
        return (comment >= 0 ? v.substring(0, comment) : v).strip();
    }
}
