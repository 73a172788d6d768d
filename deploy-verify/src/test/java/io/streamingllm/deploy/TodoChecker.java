package io.streamingllm.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks {@code todo.md} (S30): every checked item's named files (code spans that look like
 * paths) exist; in Phase 3 the deployment items S26–S30 are listed and checked exactly when their
 * files exist.
 */
public final class TodoChecker {
    private static final Pattern ITEM = Pattern.compile("^\\s*[-*+]\\s+\\[([ xX])]\\s+(.*)$");
    private static final Pattern PHASE = Pattern.compile("^#{1,6}\\s+Phase\\s+(\\d+)\\b.*$");
    private static final Pattern SPAN = Pattern.compile("`([^`\\s]+)`");
    private static final List<String> PHASE3_ITEMS = List.of("S26", "S27", "S28", "S29", "S30");

    record Item(int phase, boolean checked, String text, List<String> files) {
    }

    private TodoChecker() {
    }

    public static List<String> check(Path repo) {
        Path todo = repo.resolve(Repo.TODO);
        if (!Files.isRegularFile(todo)) {
            return List.of("todo.md is missing");
        }
        List<Item> items = new ArrayList<>();
        int phase = 0;
        try {
            for (String line : Files.readAllLines(todo)) {
                Matcher p = PHASE.matcher(line);
                if (p.matches()) {
                    phase = Integer.parseInt(p.group(1));
                    continue;
                }
                Matcher m = ITEM.matcher(line);
                if (m.matches()) {
                    List<String> files = new ArrayList<>();
                    Matcher s = SPAN.matcher(m.group(2));
                    while (s.find()) {
                        if (s.group(1).contains("/") || s.group(1).matches(".*\\.[a-z]+")) {
                            files.add(s.group(1));
                        }
                    }
                    items.add(new Item(phase, !m.group(1).equals(" "), m.group(2), files));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> problems = new ArrayList<>();
        for (Item item : items) {
            List<String> missing = item.files().stream().filter(f -> !Files.exists(repo.resolve(f))).toList();
            if (item.checked() && !missing.isEmpty()) {
                problems.add("checked item \"" + item.text() + "\" names missing files " + missing);
            }
        }
        for (String id : PHASE3_ITEMS) {
            List<Item> matching = items.stream().filter(i -> i.phase() == 3 && i.text().matches("(?s)" + id + "\\b.*")).toList();
            if (matching.isEmpty()) {
                problems.add("Phase 3 has no " + id + " item");
                continue;
            }
            Item item = matching.get(0);
            if (item.files().isEmpty()) {
                problems.add("Phase 3 item " + id + " names no file");
            } else if (!item.checked() && item.files().stream().allMatch(f -> Files.exists(repo.resolve(f)))) {
                problems.add("Phase 3 item " + id + " is unchecked although its files " + item.files() + " exist");
            }
        }
        return problems;
    }
}
