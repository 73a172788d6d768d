package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The /v1 path against the WebSocket path in one run: the same sessions, turns and replies through the sidecar
 * jar, once as {@code /v1/chat/completions} SSE in front of the fake OpenAI-compatible server ({@code openai:NAME}),
 * once as {@code /ws/chat} in front of the fake Ollama; each figure next to its own upstream's direct baseline. Run
 * by {@code scripts/bench.sh v1 [sessions] [delays-ms] [turns] [tokens] [repeats]}.
 *
 * <p>Both sidecars are started and warmed up (for each upstream speed) before anything is measured, each cell runs
 * unmeasured on both paths until the JIT compilers have settled for its own shape of sessions and history, and every
 * cell is measured
 * {@code repeats} times with the two paths alternating (WS, /v1, WS, /v1, …), so that a slow patch of the machine
 * falls on both; the table gives each figure's median over the repeats and, below it, the spread (min–max) of each
 * path's own repeats, the yardstick for whether a difference between the paths is one. At 0 ms/token a cell's
 * sessions take enough turns for {@value #TOKENS_A_BATCH} tokens (more turns where the sessions are few, at most
 * {@value #MAX_TURNS}): at full speed a cell of 10 short turns lasts milliseconds and measures the scheduler, not the
 * relay. The cell then runs its sessions again with new conversations, one batch after the other, until it has
 * relayed at least {@value #MIN_TOKENS_AT_FULL_SPEED} tokens; its figures are those of all the batches together. A
 * single session relays 6,400 tokens in about half a second, and its repeats scattered 3x; 100,000 tokens, under a
 * second at 50 sessions, still scattered 0.72-0.93 in the ratio between two runs of the same sidecar.
 */
public final class V1Bench {
    static final int TOKENS_A_BATCH = 100_000;
    static final int MIN_TOKENS_AT_FULL_SPEED = 300_000;
    /** A cell runs unmeasured until the compilers take less than this share of a run's CPU, at most {@link #MAX_CELL_WARM_UPS} times. */
    static final double SETTLED_JIT_SHARE = 0.05;
    static final int MAX_CELL_WARM_UPS = 10;
    /** A /v1 call carries its session's whole history: more turns than this make a cell quadratic in its turns. */
    static final int MAX_TURNS = 200;

    /** One measurement of a path's cell: its figures, with the sidecar's CPU spent on them. */
    record Cell(Outcome direct, Outcome via, long sidecarCpuNanos) {
        double addedP(double q) {
            return via.p(q) - direct.p(q);
        }

        /** NaN under 20 ticks of /proc's CPU accounting (10 ms each), too few to divide. */
        double cpuPerMillionTokens() {
            return sidecarCpuNanos < 200_000_000L ? Double.NaN : WsBench.perMillionTokens(sidecarCpuNanos, via);
        }
    }

    public static void main(String[] args) throws Exception {
        int[] sessions = LoadRun.ints(args.length > 0 ? args[0] : "1,50,200");
        int[] delays = LoadRun.ints(args.length > 1 ? args[1] : "0,20");
        int turns = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1, not " + repeats);
        }
        BenchSidecar.requireJar();
        System.out.printf("%d turns of %d tokens per session (at 0 ms/token at least %d tokens a cell, or %d turns), %d repeats per "
                        + "cell, paths alternating; added TTFT = through the sidecar minus straight to the fake upstream; "
                        + "medians of the repeats%n", turns, tokens, MIN_TOKENS_AT_FULL_SPEED, MAX_TURNS, repeats);
        System.out.println("| sessions | ms/token | turns | WS tok/s | /v1 tok/s | /v1 ÷ WS | WS added TTFT p50/p99 ms | /v1 added TTFT p50/p99 ms | sidecar CPU s per M tokens WS / /v1 | errors WS / /v1 |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        List<String> spreads = new ArrayList<>();
        try (RelayPath ws = new OllamaWsPath(); RelayPath v1 = new OpenAiV1Path()) {
            int scenarioCount = 0; // every scenario starts its own conversations
            try (BenchSidecar wsSidecar = BenchSidecar.start(ws.sidecarEnv());
                 BenchSidecar v1Sidecar = BenchSidecar.start(v1.sidecarEnv())) {
                for (int delay : delays) {
                    // a second upstream speed warms up again: its paced phase takes paths full speed never took
                    WarmUp.run(ws, wsSidecar, WsBench.reply(tokens), delay);
                    WarmUp.run(v1, v1Sidecar, WsBench.reply(tokens), delay);
                    for (int n : sessions) {
                        int cellTurns = delay > 0 ? turns : Math.max(turns, Math.min(MAX_TURNS,
                                (TOKENS_A_BATCH + n * tokens - 1) / (n * tokens)));
                        int batches = delay > 0 ? 1 : Math.max(1, (int) Math.ceil(
                                (double) MIN_TOKENS_AT_FULL_SPEED / ((long) n * cellTurns * tokens)));
                        // the warm-up's shape (200 sessions x 10 turns) leaves other shapes' paths to the JIT: long
                        // histories' windows, summaries and recall searches were still compiling through a 1-session
                        // cell's repeats (C2 half of its sidecar's CPU in perf, tokens/s rising repeat by repeat). One
                        // unmeasured run of each path was the first answer; C2 still took 16-35% of the sidecars' samples
                        // during a 50-session cell's repeats after it (perf), so the cell runs unmeasured until the
                        // compilers take under 5% of a run's CPU
                        System.err.printf("  warming up the cell of %d sessions x %d turns at %d ms/token%n", n, cellTurns, delay);
                        double share = 1;
                        int warmRuns = 0;
                        while (share >= SETTLED_JIT_SHARE && warmRuns < MAX_CELL_WARM_UPS) {
                            Scenario wsRun = new Scenario(n, delay, cellTurns, tokens, false, "bench-" + (++scenarioCount) + "-");
                            Scenario v1Run = new Scenario(n, delay, cellTurns, tokens, false, "bench-" + (++scenarioCount) + "-");
                            share = WarmUp.jitShare(List.of(wsSidecar, v1Sidecar), () -> {
                                measure(ws, wsSidecar, wsRun, batches);
                                return measure(v1, v1Sidecar, v1Run, batches);
                            });
                            warmRuns++;
                        }
                        System.err.printf("  cell warmed up in %d runs of each path; JIT share of CPU in the last: %.1f%%%n",
                                warmRuns, share * 100);
                        List<Cell> w = new ArrayList<>();
                        List<Cell> v = new ArrayList<>();
                        for (int r = 0; r < repeats; r++) {
                            w.add(measure(ws, wsSidecar, new Scenario(n, delay, cellTurns, tokens, false, "bench-" + (++scenarioCount) + "-"), batches));
                            v.add(measure(v1, v1Sidecar, new Scenario(n, delay, cellTurns, tokens, false, "bench-" + (++scenarioCount) + "-"), batches));
                        }
                        double wTps = median(w, c -> c.via().tokensPerSecond());
                        double vTps = median(v, c -> c.via().tokensPerSecond());
                        System.out.printf("| %d | %d | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %s / %s | %d / %d |%n",
                                n, delay, cellTurns, wTps, vTps, vTps / wTps,
                                median(w, c -> c.addedP(0.5)), median(w, c -> c.addedP(0.99)),
                                median(v, c -> c.addedP(0.5)), median(v, c -> c.addedP(0.99)),
                                cpu(median(w, Cell::cpuPerMillionTokens)), cpu(median(v, Cell::cpuPerMillionTokens)),
                                w.stream().mapToInt(c -> c.via().errors()).sum(), v.stream().mapToInt(c -> c.via().errors()).sum());
                        spreads.add(String.format("| %d | %d | %s | %s | %s / %s | %s / %s |", n, delay,
                                range(w, c -> c.via().tokensPerSecond(), "%.0f"), range(v, c -> c.via().tokensPerSecond(), "%.0f"),
                                range(w, c -> c.addedP(0.5), "%.2f"), range(w, c -> c.addedP(0.99), "%.2f"),
                                range(v, c -> c.addedP(0.5), "%.2f"), range(v, c -> c.addedP(0.99), "%.2f")));
                    }
                }
            }
        }
        System.out.println();
        System.out.println("Spread of each path's own repeats (min–max):");
        System.out.println();
        System.out.println("| sessions | ms/token | WS tok/s | /v1 tok/s | WS added p50 / p99 ms | /v1 added p50 / p99 ms |");
        System.out.println("|---|---|---|---|---|---|");
        spreads.forEach(System.out::println);
    }

    /**
     * One path's cell: its direct baseline, then the same sessions through its sidecar, {@code batches} times over
     * with new conversations each time (the batches' prefixes extend the scenario's).
     */
    private static Cell measure(RelayPath path, BenchSidecar sidecar, Scenario s, int batches) throws Exception {
        List<Outcome> direct = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            direct.add(path.direct(s));
        }
        List<Outcome> via = new ArrayList<>();
        long cpuBefore = sidecar.cpuNanos();
        for (int b = 0; b < batches; b++) {
            via.add(path.via(sidecar.port, batches == 1 ? s : batch(s, b)));
        }
        Cell cell = new Cell(Outcome.of(direct), Outcome.of(via), sidecar.cpuNanos() - cpuBefore);
        System.err.printf("  %s, %d sessions x %d turns%s at %d ms/token: %.0f tok/s, TTFT direct %.2f / %.2f ms, via %.2f / %.2f ms%n",
                path.name(), s.sessions(), s.turns(), batches == 1 ? "" : " x " + batches + " batches", s.delayMs(),
                cell.via().tokensPerSecond(), cell.direct().p(0.5), cell.direct().p(0.99), cell.via().p(0.5), cell.via().p(0.99));
        return cell;
    }

    private static Scenario batch(Scenario s, int b) {
        return new Scenario(s.sessions(), s.delayMs(), s.turns(), s.tokensPerReply(), s.staggered(),
                s.conversationPrefix() + "b" + b + "-");
    }

    static double median(List<Cell> cells, ToDoubleFunction<Cell> f) {
        double[] v = cells.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String range(List<Cell> cells, ToDoubleFunction<Cell> f, String format) {
        double[] v = cells.stream().mapToDouble(f).sorted().toArray();
        return String.format(format, v[0]) + "–" + String.format(format, v[v.length - 1]);
    }

    private static String cpu(double perMillion) {
        return Double.isNaN(perMillion) ? "—" : String.format("%.1f", perMillion);
    }

    private V1Bench() {
    }
}
