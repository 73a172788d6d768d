package io.streamingllm.bench;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.engine.echo.WordTokens;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.summary.SummaryStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 18's evaluation, run by {@code scripts/eval-recall.sh}: long conversations ({@link LongConversation}) with
 * facts planted among filler and questions about them 100 to 2,000 turns later, played through the real
 * {@link ChatService} (log, window, extractive summary, Lucene recall) in front of the echo engine. No model: for
 * each question it checks whether the fact's value is in the prompt the engine was sent, in the parts each memory
 * would have: window only (the recent turns), window + summary, window + summary + recall (a second run with
 * {@code STREAMING_LLM_RECALL_SIZE} on). Prints a markdown table and writes an SVG chart.
 *
 * <p>Args: {@code --out DIR} (default docs/recall-eval), {@code --seed N} (1), {@code --turns N} (2600),
 * {@code --per-distance N} (20), {@code --distances 100,250,500,1000,2000}, {@code --recall-size N} (the
 * default: a quarter of RECENT_SIZE).
 */
public final class RecallEval {
    private static final String SUMMARY_MARK = "Summary of the earlier conversation:";
    private static final String RECALL_MARK = "Earlier turns of this conversation, recalled";

    /** The prompt of a question turn, split into its parts. */
    record Prompt(String sink, String summary, String recall, String recent) {
        static Prompt of(List<ChatMessage> messages) {
            String system = messages.get(0).role() == ChatMessage.Role.SYSTEM ? messages.get(0).content() : "";
            int recallAt = system.indexOf(RECALL_MARK);
            String recall = recallAt < 0 ? "" : system.substring(recallAt);
            String rest = recallAt < 0 ? system : system.substring(0, recallAt);
            int summaryAt = rest.indexOf(SUMMARY_MARK);
            String summary = summaryAt < 0 ? "" : rest.substring(summaryAt);
            String sink = summaryAt < 0 ? rest : rest.substring(0, summaryAt);
            StringBuilder recent = new StringBuilder();
            for (ChatMessage m : messages.subList(system.isEmpty() ? 0 : 1, messages.size() - 1)) {
                recent.append(m.content()).append('\n');
            }
            return new Prompt(sink, summary, recall, recent.toString());
        }
    }

    /** Per distance: questions, and how many had their fact in each memory's part of the prompt. */
    static final class Tally {
        int questions;
        int window;
        int summary;
        int recall;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = options(args);
        Path out = Path.of(a.getOrDefault("out", "docs/recall-eval"));
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        int turns = Integer.parseInt(a.getOrDefault("turns", "2600"));
        int perDistance = Integer.parseInt(a.getOrDefault("per-distance", "20"));
        int[] distances = Arrays.stream(a.getOrDefault("distances", "100,250,500,1000,2000").split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        String recallSize = a.get("recall-size");

        List<LongConversation.Line> lines = LongConversation.generate(seed, turns, distances, perDistance);
        Path work = Files.createTempDirectory("recall-eval");
        try {
            Map<Integer, Tally> tallies = new LinkedHashMap<>();
            Arrays.stream(distances).forEach(d -> tallies.put(d, new Tally()));
            long[] sizes = new long[6]; // sums and maxima of prompt tokens: window, +summary, +recall
            SidecarConfig off = config(work.resolve("off"), "0");
            SidecarConfig on = config(work.resolve("on"), recallSize);
            long started = System.nanoTime();
            List<Prompt> withoutRecall = play(off, lines);
            List<Prompt> withRecall = play(on, lines);
            double seconds = (System.nanoTime() - started) / 1e9;
            int q = 0;
            for (LongConversation.Line line : lines) {
                if (!line.question()) {
                    continue;
                }
                Prompt p = withoutRecall.get(q);
                Prompt r = withRecall.get(q);
                q++;
                String value = line.fact().value();
                Tally t = tallies.get(line.fact().distance());
                t.questions++;
                boolean inWindow = p.recent().contains(value);
                boolean inSummary = inWindow || p.summary().contains(value);
                boolean inRecall = r.recent().contains(value) || r.summary().contains(value) || r.recall().contains(value);
                t.window += inWindow ? 1 : 0;
                t.summary += inSummary ? 1 : 0;
                t.recall += inRecall ? 1 : 0;
                int w = tokens(p.sink()) + tokens(p.recent());
                int ws = w + tokens(p.summary());
                int wsr = tokens(r.sink()) + tokens(r.recent()) + tokens(r.summary()) + tokens(r.recall());
                sizes[0] += w;
                sizes[1] = Math.max(sizes[1], w);
                sizes[2] += ws;
                sizes[3] = Math.max(sizes[3], ws);
                sizes[4] += wsr;
                sizes[5] = Math.max(sizes[5], wsr);
            }
            report(on, lines.size(), q, tallies, sizes, seconds, seed);
            Files.createDirectories(out);
            Path svg = out.resolve("recall-eval.svg");
            Files.writeString(svg, chart(tallies));
            System.out.println();
            System.out.println("Chart: " + svg);
        } finally {
            try (var walk = Files.walk(work)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static SidecarConfig config(Path dir, String recallSize) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, dir.toString());
        env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
        if (recallSize != null) {
            env.put(SidecarConfig.RECALL_SIZE, recallSize);
        }
        return SidecarConfig.fromEnv(env);
    }

    /** Plays the conversation through a real ChatService; returns the prompts of the question turns, in order. */
    private static List<Prompt> play(SidecarConfig cfg, List<LongConversation.Line> lines) throws Exception {
        Recorder engine = new Recorder(new EchoEngine(0));
        List<Prompt> prompts = new ArrayList<>();
        try (EventLog log = new EventLog(cfg.logDir());
             RecallIndex index = new RecallIndex(cfg.indexDir());
             ChatService chat = new ChatService(cfg, engine, new AgentStore(cfg.agentsDir()), log,
                     new SummaryStore(cfg.summaryDir()), ChatService.DEFAULT_MAX_RESIDENT, index)) {
            for (LongConversation.Line line : lines) {
                // turns here follow each other in microseconds; with people and models a second or more passes, in
                // which the index's background refresh makes the turns indexed so far recallable
                index.refreshNow();
                chat.startTurn(new TurnRequest("eval", "planner", line.text(), null), d -> { }).result().join();
                if (line.question()) {
                    prompts.add(Prompt.of(engine.last));
                }
            }
        }
        return prompts;
    }

    private static int tokens(String text) {
        return WordTokens.count(text);
    }

    private static void report(SidecarConfig cfg, int turns, int questions, Map<Integer, Tally> tallies, long[] sizes,
                               double seconds, long seed) {
        System.out.println("## Facts in the prompt (" + turns + " turns, " + questions + " questions, seed " + seed
                + "; RECENT_SIZE=" + cfg.recentSize() + ", SUMMARY_SIZE=" + cfg.summarySize() + ", RECALL_SIZE="
                + cfg.recallSize() + "; echo engine, word tokens)");
        System.out.println();
        System.out.println("| distance (turns) | questions | window only | window + summary | window + summary + recall |");
        System.out.println("|---|---|---|---|---|");
        Tally all = new Tally();
        tallies.forEach((d, t) -> {
            System.out.printf(Locale.ROOT, "| %,d | %d | %s | %s | %s |%n", d, t.questions, pct(t.window, t.questions),
                    pct(t.summary, t.questions), pct(t.recall, t.questions));
            all.questions += t.questions;
            all.window += t.window;
            all.summary += t.summary;
            all.recall += t.recall;
        });
        System.out.printf(Locale.ROOT, "| all | %d | %s | %s | %s |%n", all.questions, pct(all.window, all.questions),
                pct(all.summary, all.questions), pct(all.recall, all.questions));
        System.out.println();
        int budget = cfg.recentSize() + cfg.summarySize() + cfg.recallSize();
        System.out.println("## Prompt size at the questions (tokens; sink included)");
        System.out.println();
        System.out.println("| memory | mean | max | budget (sink + parts) |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| window only | %d | %d | sink + %d |%n", sizes[0] / questions, sizes[1],
                cfg.recentSize());
        System.out.printf(Locale.ROOT, "| window + summary | %d | %d | sink + %d |%n", sizes[2] / questions, sizes[3],
                cfg.recentSize() + cfg.summarySize());
        System.out.printf(Locale.ROOT, "| window + summary + recall | %d | %d | sink + %d |%n", sizes[4] / questions,
                sizes[5], budget);
        System.out.println();
        System.out.printf(Locale.ROOT, "Both runs (%,d turns each, fsync on): %.1f s%n", turns, seconds);
    }

    private static String pct(int n, int of) {
        return of == 0 ? "-" : String.format(Locale.ROOT, "%.0f%% (%d)", 100.0 * n / of, n);
    }

    /** A line chart: share of questions with their fact in the prompt, by distance, one line per memory. */
    static String chart(Map<Integer, Tally> tallies) {
        List<Integer> xs = List.copyOf(tallies.keySet());
        List<double[]> series = List.of(
                xs.stream().mapToDouble(d -> share(tallies.get(d).window, tallies.get(d).questions)).toArray(),
                xs.stream().mapToDouble(d -> share(tallies.get(d).summary, tallies.get(d).questions)).toArray(),
                xs.stream().mapToDouble(d -> share(tallies.get(d).recall, tallies.get(d).questions)).toArray());
        return SvgChart.lines("Fact in the prompt, by distance to the question", "turns between fact and question",
                "% of questions", xs, series, List.of("window only", "window + summary", "window + summary + recall"),
                List.of("#999999", "#e08a00", "#1f6fd0"));
    }

    private static double share(int n, int of) {
        return of == 0 ? 0 : 100.0 * n / of;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: [--out DIR] [--seed N] [--turns N] [--per-distance N]"
                        + " [--distances 100,250,...] [--recall-size N]; got " + args[i]);
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    /** The echo engine, keeping the last prompt it was sent (turns run one at a time). */
    private static final class Recorder implements ModelEngine {
        private final ModelEngine delegate;
        volatile List<ChatMessage> last;

        Recorder(ModelEngine delegate) {
            this.delegate = delegate;
        }

        @Override
        public String engineName() {
            return delegate.engineName();
        }

        @Override
        public String model() {
            return delegate.model();
        }

        @Override
        public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
            last = List.copyOf(messages);
            return delegate.generate(messages, options, listener);
        }

        @Override
        public EngineHealth health() {
            return delegate.health();
        }

        @Override
        public java.util.Optional<TokenCounter> exactTokenCounter() {
            return delegate.exactTokenCounter();
        }
    }
}
