package io.streamingllm.deploy;

import io.streamingllm.core.config.SidecarConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks {@code .env.sidecar.example} (S29) against {@link SidecarConfig#KEYS}. Format: each
 * variable once, as a commented default {@code # NAME=default} (so a copied template changes
 * nothing), preceded by at least one plain comment line describing it. Every
 * {@code STREAMING_LLM_*} name anywhere in the file must be a key the code reads.
 */
public final class EnvTemplateChecker {
    private static final Pattern ENTRY = Pattern.compile("^#\\s?(STREAMING_LLM_[A-Z0-9_]+)=(.*)$");
    private static final Pattern ACTIVE = Pattern.compile("^\\s*(?:export\\s+)?(STREAMING_LLM_[A-Z0-9_]+)=");
    private static final Pattern ANY_NAME = Pattern.compile("STREAMING_LLM_[A-Z0-9_]*[A-Z0-9]");

    private EnvTemplateChecker() {
    }

    public static List<String> check(Path template) {
        if (!Files.isRegularFile(template)) {
            return List.of(template.getFileName() + " is missing");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(template);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> expected = SidecarConfig.defaults();
        Map<String, String> documented = new LinkedHashMap<>();
        TreeSet<String> unknown = new TreeSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher names = ANY_NAME.matcher(line);
            while (names.find()) {
                if (!expected.containsKey(names.group())) {
                    unknown.add(names.group());
                }
            }
            Matcher active = ACTIVE.matcher(line);
            if (active.find()) {
                problems.add("line " + (i + 1) + ": " + active.group(1) + " is set, not documented as a commented default (# NAME=default)");
                continue;
            }
            Matcher entry = ENTRY.matcher(line);
            if (!entry.matches() || !expected.containsKey(entry.group(1))) {
                continue;
            }
            String name = entry.group(1);
            if (documented.put(name, entry.group(2).strip()) != null) {
                problems.add(name + " appears more than once");
            }
            boolean described = i > 0 && lines.get(i - 1).startsWith("#") && !ENTRY.matcher(lines.get(i - 1)).matches()
                    && lines.get(i - 1).substring(1).strip().length() > 0;
            if (!described) {
                problems.add(name + " has no comment line describing it");
            }
        }
        unknown.forEach(n -> problems.add(n + " is not a variable the code reads (not in SidecarConfig.KEYS)"));
        expected.forEach((name, def) -> {
            if (!documented.containsKey(name)) {
                problems.add(name + " is missing (the code reads it; default \"" + def + "\")");
            } else if (!documented.get(name).equals(def)) {
                problems.add(name + " documents default \"" + documented.get(name) + "\" but the code's default is \"" + def + "\"");
            }
        });
        return problems;
    }
}
