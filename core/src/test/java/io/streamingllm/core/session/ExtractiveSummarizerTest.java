package io.streamingllm.core.session;

import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.session.ExtractiveSummarizer.EvictedTurn;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The summary a window gets must not depend on how it was computed: {@link ExtractiveSummarizer#fold} sums lengths
 * instead of rendering the summary after every merge, reads the merged bullet back without parsing it where that is
 * safe, and takes a relayed conversation's bullets from its earlier calls; {@link Reference} is the fold that renders,
 * counts and parses everything every time, and both must give the same text for the same turns, whatever they hold.
 */
class ExtractiveSummarizerTest {
    /** Words that exercise the parsing: separators, sentence ends, blank and line-breaking characters. */
    private static final String[] WORDS = {"alpha", "beta", "gamma", "delta.", "why?", "yes!", "a;", "; b", ";",
            "x; y", "—", "— assistant:", "Turn", "Turns 3–4 (compacted):", "\u2028", "\u0085", "\r\n", "\t", " ", "",
            "(empty)", "…", "12345678901", "naïve", "🙂", "user:", "-"};

    @Test
    void foldGivesTheSameSummaryAsRenderingEveryMerge() {
        Random random = new Random(13);
        for (int round = 0; round < 3000; round++) {
            List<EvictedTurn> turns = turns(random, 1 + random.nextInt(random.nextBoolean() ? 8 : 120), 1);
            String previous = switch (random.nextInt(4)) {
                case 0 -> Reference.fold(null, turns(random, 1 + random.nextInt(30), 1), 8 + random.nextInt(200),
                        estimator(random).byLength());
                case 1 -> text(random) + "\n" + text(random) + "\n- " + text(random); // a summary edited by hand
                default -> null;
            };
            int budget = 1 + random.nextInt(random.nextBoolean() ? 60 : 600);
            TokenEstimator tokens = estimator(random);
            TokenCounter fixed = tokens.byLength(); // what both folds count with
            assertEquals(outcome(() -> Reference.fold(previous, turns, budget, fixed)),
                    outcome(() -> ExtractiveSummarizer.fold(previous, turns, budget, tokens)), "round " + round);
        }
    }

    @Test
    void aConversationsKeptBulletsGiveTheSummaryOfTheHistoryAsSentEvenWhenTheClientEditsIt() {
        Random random = new Random(7);
        for (int conversation = 0; conversation < 40; conversation++) {
            ExtractiveSummarizer.Bullets kept = new ExtractiveSummarizer.Bullets();
            List<EvictedTurn> history = new ArrayList<>();
            int edits = 0;
            for (int call = 0; call < 80; call++) {
                int change = random.nextInt(10);
                if (change == 0 && history.size() > 2) {
                    // the client edits an earlier turn
                    int i = random.nextInt(history.size() - 1);
                    EvictedTurn t = history.get(i);
                    history.set(i, new EvictedTurn(t.turn(), t.user() + " edited", t.assistant()));
                    edits++;
                } else if (change == 1 && history.size() > 4) {
                    // or sends a shorter history
                    history.subList(history.size() - 1 - random.nextInt(3), history.size()).clear();
                } else {
                    history.addAll(turns(random, 1 + random.nextInt(2), history.size() + 1));
                }
                // the window evicts a prefix of the history, longer or shorter from call to call
                List<EvictedTurn> evicted = history.subList(0, Math.max(0, history.size() - random.nextInt(4)));
                int budget = 20 + random.nextInt(300);
                TokenEstimator tokens = estimator(random);
                assertEquals(Reference.fold(null, evicted, budget, tokens.byLength()),
                        ExtractiveSummarizer.fold(null, evicted, budget, tokens, kept),
                        "conversation " + conversation + ", call " + call);
            }
            assertTrue(edits > 0);
        }
    }

    @Test
    void aTokenizerCountsTheRenderedText() {
        // an exact counter (the local engine's tokenizer) is not a function of the length: counted on the text
        TokenCounter words = new TokenCounter() {
            @Override
            public int count(String text) {
                return text.isBlank() ? 0 : text.strip().split("\\s+").length;
            }

            @Override
            public boolean exact() {
                return true;
            }
        };
        Random random = new Random(3);
        for (int round = 0; round < 500; round++) {
            List<EvictedTurn> turns = turns(random, 1 + random.nextInt(60), 1);
            int budget = 1 + random.nextInt(300);
            assertEquals(Reference.fold(null, turns, budget, words),
                    ExtractiveSummarizer.fold(null, turns, budget, new TokenEstimator(words)), "round " + round);
        }
    }

    /** The summary, or the exception a fold throws (a hand-edited line may name a turn past int's range). */
    private static String outcome(java.util.function.Supplier<String> fold) {
        try {
            return fold.get();
        } catch (RuntimeException e) {
            return e.getClass().getName();
        }
    }

    /** A chars-per-token estimate somewhere in the range calibration keeps it in. */
    private static TokenEstimator estimator(Random random) {
        TokenEstimator tokens = new TokenEstimator(null);
        for (int i = random.nextInt(4); i > 0; i--) {
            tokens.calibrate(1000 + random.nextInt(5000), 200 + random.nextInt(400));
        }
        return tokens;
    }

    private static List<EvictedTurn> turns(Random random, int n, int firstNumber) {
        List<EvictedTurn> turns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            turns.add(new EvictedTurn(firstNumber + i, text(random), text(random)));
        }
        return turns;
    }

    private static String text(Random random) {
        int n = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 6 : 40);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String w = random.nextInt(3) == 0 ? WORDS[random.nextInt(WORDS.length)] : "w" + random.nextInt(50);
            sb.append(i == 0 ? "" : random.nextInt(8) == 0 ? "  " : " ").append(w);
        }
        return sb.toString();
    }

    /** The fold as it was before it kept lengths and bullets: renders, counts and parses everything every time. */
    private static final class Reference {
        private static final String HEADER = "Earlier in this conversation:";
        private static final int WORDS_PER_SIDE = 24;
        private static final int WORDS_PER_FRAGMENT = 8;
        private static final int FRAGMENTS_KEPT = 6;
        private static final Pattern TURN_BULLET = Pattern.compile("^- Turn (\\d+) — user: (.*?)(?: — assistant: .*)?$");
        private static final Pattern COMPACTED = Pattern.compile("^- Turns (\\d+)–(\\d+) \\(compacted\\): (.*)$");

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
}
