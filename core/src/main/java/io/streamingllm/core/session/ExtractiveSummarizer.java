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
        return fold(previous, evicted, budget, counter, null);
    }

    /**
     * As above, taking the evicted turns' bullets from {@code bullets} (null: none kept) where an earlier fold made
     * them: a relayed call's client sends the same old turns on every call.
     */
    static String fold(String previous, List<EvictedTurn> evicted, int budget, TokenCounter counter, Bullets bullets) {
        List<String> lines = new ArrayList<>();
        List<Bullet> parsed = new ArrayList<>();
        if (previous != null) {
            for (String line : previous.split("\n")) {
                if (!line.isBlank() && !line.equals(HEADER)) {
                    lines.add(line.startsWith("- ") ? line : "- " + line.strip());
                    parsed.add(null);
                }
            }
        }
        for (int i = 0; i < evicted.size(); i++) {
            Bullet b = bullets == null ? Bullet.of(evicted.get(i)) : bullets.get(i, evicted.get(i));
            lines.add(b.line);
            parsed.add(b);
        }
        if (bullets != null) {
            bullets.keep(evicted.size());
        }
        TokenEstimator.ByLength byLength = counter instanceof TokenEstimator e ? e.byLength() : null;
        if (byLength == null) {
            // a tokenizer's count is not a function of the length: render and count the text every time
            String text = render(lines);
            while (counter.count(text) > budget && lines.size() > 1) {
                compactOldest(lines, Math.max(1, budget / 3), counter);
                text = render(lines);
            }
            return counter.count(text) > budget ? shrinkToBudget(text, budget, counter) : text;
        }
        // the same loop, the rendered length kept as a sum instead of rendering every line again per merge
        int start = 0;
        long length = renderedLength(lines);
        Compacted[] head = {parsed.isEmpty() || parsed.get(0) == null ? null : parsed.get(0).parsed()};
        while (byLength.count(length) > budget && lines.size() - start > 1) {
            length -= lines.get(start).length() + lines.get(start + 1).length() + 1;
            Compacted next = parsed.get(start + 1) == null ? null : parsed.get(start + 1).parsed();
            String merged = compact(lines.get(start), head[0], lines.get(start + 1), next,
                    Math.max(1, budget / 3), byLength, head);
            start++;
            lines.set(start, merged);
            length += merged.length();
        }
        String text = render(lines.subList(start, lines.size()));
        return byLength.count(text) > budget ? shrinkToBudget(text, budget, byLength) : text;
    }

    /** The length of {@link #render}'s text. */
    private static long renderedLength(List<String> lines) {
        if (lines.isEmpty()) {
            return 0;
        }
        long n = HEADER.length() + 1 + lines.size();
        for (String line : lines) {
            n += line.length();
        }
        return n;
    }

    /**
     * Merges the second line into the first, which becomes (or stays) the compacted bullet; the compacted
     * bullet keeps its newest fragments within {@code headBudget} tokens, so the newest evicted turns keep
     * their own bullets.
     */
    private static void compactOldest(List<String> lines, int headBudget, TokenCounter counter) {
        lines.set(0, compact(lines.get(0), null, lines.get(1), null, headBudget, counter, null));
        lines.remove(1);
    }

    /**
     * The line that merges {@code second} into {@code first}; each given already parsed or null. When
     * {@code parsedOut} is given, its element is set to the merged line as {@link Compacted#of} would parse it, or
     * null when that is not known without parsing it.
     */
    private static String compact(String firstLine, Compacted first, String secondLine, Compacted second,
                                  int headBudget, TokenCounter counter, Compacted[] parsedOut) {
        Compacted head = first != null ? first : Compacted.of(firstLine);
        Compacted next = second != null ? second : Compacted.of(secondLine);
        List<String> fragments = new ArrayList<>(head.fragments);
        fragments.addAll(next.fragments);
        if (fragments.size() > FRAGMENTS_KEPT) {
            fragments = new ArrayList<>(fragments.subList(fragments.size() - FRAGMENTS_KEPT, fragments.size()));
        }
        int from = head.first > 0 ? head.first : next.first;
        int last = Math.max(head.last, next.last);
        String range = from > 0 ? "- Turns " + from + "–" + last + " (compacted): " : "- Earlier (compacted): ";
        String merged = range + String.join("; ", fragments);
        while (fragments.size() > 1 && counter.count(merged) > headBudget) {
            fragments.remove(0);
            merged = range + String.join("; ", fragments);
        }
        if (parsedOut != null) {
            parsedOut[0] = from > 0 && fragments.stream().allMatch(ExtractiveSummarizer::splitsBack)
                    ? new Compacted(from, last, List.copyOf(fragments)) : null;
        }
        return merged;
    }

    /**
     * Whether a fragment comes back unchanged when its compacted line is parsed again: {@link #COMPACTED}'s
     * {@code .*} stops at line terminators, and the fragments are split at {@code "; "} with blank ones dropped.
     */
    private static boolean splitsBack(String fragment) {
        if (fragment.isBlank() || fragment.contains("; ")) {
            return false;
        }
        for (int i = 0; i < fragment.length(); i++) {
            char c = fragment.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return false;
            }
        }
        return true;
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

    /** An evicted turn's bullet line, and (once needed) the line parsed as the compacted bullet reads it. */
    private static final class Bullet {
        final EvictedTurn turn;
        final String line;
        private Compacted parsed;

        private Bullet(EvictedTurn turn, String line) {
            this.turn = turn;
            this.line = line;
        }

        static Bullet of(EvictedTurn t) {
            return new Bullet(t, "- Turn " + t.turn() + " — user: " + clip(t.user(), WORDS_PER_SIDE)
                    + " — assistant: " + clip(t.assistant(), WORDS_PER_SIDE));
        }

        Compacted parsed() {
            if (parsed == null) {
                parsed = Compacted.of(line);
            }
            return parsed;
        }

        long chars() {
            return (long) turn.user().length() + turn.assistant().length() + line.length();
        }
    }

    /**
     * The bullets of the turns one conversation's relayed calls evicted last, by position: a client that sends the
     * same history again gets them back instead of clipping and parsing every old turn again; a turn that differs
     * (an edited or shortened history) gets its bullet made anew. Holds at most {@link #MAX_CHARS} characters of
     * turns. Not thread-safe: used by the conversation's turn, one at a time.
     */
    static final class Bullets {
        static final long MAX_CHARS = 1 << 20;
        private final List<Bullet> kept = new ArrayList<>();
        private long chars;

        Bullet get(int i, EvictedTurn t) {
            if (i < kept.size()) {
                Bullet b = kept.get(i);
                if (b.turn.equals(t)) {
                    return b;
                }
                Bullet made = Bullet.of(t);
                chars += made.chars() - b.chars();
                kept.set(i, made);
                return made;
            }
            Bullet made = Bullet.of(t);
            if (i == kept.size() && chars + made.chars() <= MAX_CHARS) {
                kept.add(made);
                chars += made.chars();
            }
            return made;
        }

        /** Forgets the bullets past the first {@code n}: the newest fold evicted no more. */
        void keep(int n) {
            while (kept.size() > n) {
                chars -= kept.remove(kept.size() - 1).chars();
            }
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
