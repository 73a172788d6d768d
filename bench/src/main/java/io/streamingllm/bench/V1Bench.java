package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;

import java.util.ArrayList;
import java.util.List;

/**
 * The /v1 path against the WebSocket path in one run: the same sessions, turns and replies through the sidecar
 * jar, once as {@code /v1/chat/completions} SSE in front of the fake OpenAI-compatible server ({@code openai:NAME}),
 * once as {@code /ws/chat} in front of the fake Ollama; each sidecar warmed up first and each figure next to its
 * own upstream's direct baseline. Run by {@code scripts/bench.sh v1 [sessions] [delays-ms] [turns] [tokens]}.
 */
public final class V1Bench {

    /** One cell: a path's figures for a session count, with the sidecar's CPU spent on them. */
    record Cell(Outcome direct, Outcome via, long sidecarCpuNanos) {
        double addedP(double q) {
            return via.p(q) - direct.p(q);
        }

        /** "—" under 20 ticks of /proc's CPU accounting (10 ms each), too few to divide. */
        String cpuPerMillionTokens() {
            return sidecarCpuNanos < 200_000_000L ? "—" : String.format("%.1f", WsBench.perMillionTokens(sidecarCpuNanos, via));
        }
    }

    public static void main(String[] args) throws Exception {
        int[] sessions = LoadRun.ints(args.length > 0 ? args[0] : "1,50,200");
        int[] delays = LoadRun.ints(args.length > 1 ? args[1] : "0,20");
        int turns = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        BenchSidecar.requireJar();
        System.out.printf("%d turns of %d tokens per session; added TTFT = through the sidecar minus straight to the fake upstream%n",
                turns, tokens);
        System.out.println("| sessions | ms/token | WS tok/s | /v1 tok/s | /v1 ÷ WS | WS added TTFT p50/p99 ms | /v1 added TTFT p50/p99 ms | sidecar CPU s per M tokens WS / /v1 | errors WS / /v1 |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        try (RelayPath ws = new OllamaWsPath(); RelayPath v1 = new OpenAiV1Path()) {
            int[] scenarioCount = {0}; // every scenario starts its own conversations
            for (int delay : delays) {
                List<Cell> wsCells = measure(ws, delay, sessions, turns, tokens, scenarioCount);
                List<Cell> v1Cells = measure(v1, delay, sessions, turns, tokens, scenarioCount);
                for (int i = 0; i < sessions.length; i++) {
                    Cell w = wsCells.get(i);
                    Cell v = v1Cells.get(i);
                    System.out.printf("| %d | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %s / %s | %d / %d |%n",
                            sessions[i], delay, w.via.tokensPerSecond(), v.via.tokensPerSecond(),
                            v.via.tokensPerSecond() / w.via.tokensPerSecond(), w.addedP(0.5), w.addedP(0.99),
                            v.addedP(0.5), v.addedP(0.99), w.cpuPerMillionTokens(), v.cpuPerMillionTokens(),
                            w.via.errors(), v.via.errors());
                }
            }
        }
    }

    /** Every session count on one path at one upstream speed, with a sidecar of its own, warmed up first. */
    private static List<Cell> measure(RelayPath path, int delay, int[] sessions, int turns, int tokens, int[] scenarioCount)
            throws Exception {
        List<Cell> cells = new ArrayList<>();
        try (BenchSidecar sidecar = BenchSidecar.start(path.sidecarEnv())) {
            WarmUp.run(path, sidecar, WsBench.reply(tokens), delay);
            for (int n : sessions) {
                Scenario s = new Scenario(n, delay, turns, tokens, false, "bench-" + (++scenarioCount[0]) + "-");
                Outcome direct = path.direct(s);
                long cpuBefore = sidecar.cpuNanos();
                Outcome via = path.via(sidecar.port, s);
                cells.add(new Cell(direct, via, sidecar.cpuNanos() - cpuBefore));
                System.err.printf("  %s, %d sessions at %d ms/token: %.0f tok/s, TTFT direct %.2f / %.2f ms, via %.2f / %.2f ms%n",
                        path.name(), n, delay, via.tokensPerSecond(), direct.p(0.5), direct.p(0.99), via.p(0.5), via.p(0.99));
            }
        }
        return cells;
    }

    private V1Bench() {
    }
}
