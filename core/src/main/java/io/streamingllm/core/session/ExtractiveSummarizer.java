package io.streamingllm.core.session;

import io.streamingllm.core.engine.TokenCounter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The default conversation summary: one bullet per evicted turn (the first sentence of each side,
 * clipped), and when the summary outgrows its budget the oldest bullets are folded into one
 * "compacted" bullet that keeps only a few short fragments. Deterministic, so a summary can always
 * be rebuilt from the log; bounded, so the prompt stays bounded however long the conversation runs.
 */
final class ExtractiveSummarizer {
    private static final String HEADER = "Earlier in this conversation:";
    private static final int WORDS_PER_SIDE = 24;
    private static final int WORDS_PER_FRAGMENT = 8;
    private static final int FRAGMENTS_KEPT = 6;
    private static final Pattern TURN_BULLET = Pattern.compile("^- Turn (\\d+) — user: (.*?)(?: — assistant: .*)?$");
    private static final Pattern COMPACTED = Pattern.compile("^- Turns (\\d+)–(\\d+) \\(compacted\\): (.*)$");

    /** A turn leaving the window. */
    record EvictedTurn(int turn, String user, String assistant) {
    }

    private ExtractiveSummarizer() {
    }

    /** Folds {@code evicted} into {@code previous} (null or empty for none), within {@code budget} tokens. */
    static String fold(String previous, List<EvictedTurn> evicted, int budget, TokenCounter counter) {
        List<String> lines = new ArrayList<>();
        if (previous != null) {
            for (String line : previous.split("\n")) {
                if (!line.isBlank() && !line.equals(HEADER)) {
                    lines.add(line.startsWith("- ") ? line : "- " + line.strip());
                }
            }
        }
        for (EvictedTurn t : evicted) {
            lines.add("- Turn " + t.turn() + " — user: " + clip(t.user(), WORDS_PER_SIDE)
                    + " — assistant: " + clip(t.assistant(), WORDS_PER_SIDE));
        }
        String text = render(lines);
        while (counter.count(text) > budget && lines.size() > 1) {
            compactOldest(lines, Math.max(1, budget / 3), counter);
            text = render(lines);
        }
        if (counter.count(text) > budget) {
            text = shrinkToBudget(text, budget, counter);
        }
        return text;
    }

    /**
     * Merges the second line into the first, which becomes (or stays) the compacted bullet; the compacted
     * bullet keeps its newest fragments within {@code headBudget} tokens, so the newest evicted turns keep
     * their own bullets.
     */
    private static void compactOldest(List<String> lines, int headBudget, TokenCounter counter) {
        Compacted head = Compacted.of(lines.get(0));
        Compacted next = Compacted.of(lines.get(1));
        List<String> fragments = new ArrayList<>(head.fragments);
        fragments.addAll(next.fragments);
        if (fragments.size() > FRAGMENTS_KEPT) {
            fragments = new ArrayList<>(fragments.subList(fragments.size() - FRAGMENTS_KEPT, fragments.size()));
        }
        int first = head.first > 0 ? head.first : next.first;
        int last = Math.max(head.last, next.last);
        String range = first > 0 ? "- Turns " + first + "–" + last + " (compacted): " : "- Earlier (compacted): ";
        String merged = range + String.join("; ", fragments);
        while (fragments.size() > 1 && counter.count(merged) > headBudget) {
            fragments.remove(0);
            merged = range + String.join("; ", fragments);
        }
        lines.set(0, merged);
        lines.remove(1);
    }

    private record Compacted(int first, int last, List<String> fragments) {
        static Compacted of(String line) {
            Matcher m = COMPACTED.matcher(line);
            if (m.matches()) {
                List<String> parts = new ArrayList<>(List.of(m.group(3).split("; ")));
                parts.removeIf(String::isBlank);
                return new Compacted(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), parts);
            }
            m = TURN_BULLET.matcher(line);
            if (m.matches()) {
                int turn = Integer.parseInt(m.group(1));
                return new Compacted(turn, turn, List.of(clip(m.group(2), WORDS_PER_FRAGMENT)));
            }
            return new Compacted(0, 0, List.of(clip(line.substring(2), WORDS_PER_FRAGMENT)));
        }
    }

    private static String render(List<String> lines) {
        return lines.isEmpty() ? "" : HEADER + "\n" + String.join("\n", lines) + "\n";
    }

    private static String shrinkToBudget(String text, int budget, TokenCounter counter) {
        int lo = 0;
        int hi = text.length();
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (counter.count(text.substring(0, mid)) <= budget) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return text.substring(0, lo);
    }

    /** The first sentence of {@code text} on one line, at most {@code maxWords} words. */
    private static String clip(String text, int maxWords) {
        String oneLine = text == null ? "" : text.strip().replaceAll("\\s+", " ");
        int end = firstSentenceEnd(oneLine);
        String sentence = end > 0 ? oneLine.substring(0, end) : oneLine;
        String[] words = sentence.split(" ");
        if (words.length <= maxWords) {
            return sentence.isEmpty() ? "(empty)" : sentence;
        }
        return String.join(" ", Arrays.copyOf(words, maxWords)) + " …";
    }

    private static int firstSentenceEnd(String s) {
        for (int i = 0; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if ((c == '.' || c == '!' || c == '?') && s.charAt(i + 1) == ' ') {
                return i + 1;
            }
        }
        return -1;
    }
}
