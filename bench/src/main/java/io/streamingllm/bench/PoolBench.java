package io.streamingllm.bench;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.pool.PoolListener;
import io.streamingllm.core.engine.pool.PoolSettings;
import io.streamingllm.core.engine.pool.UpstreamPool;
import io.streamingllm.core.testing.FakeOllama;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several upstreams behind one engine (issue 16), with fake Ollamas in this JVM that each answer with their own name
 * as the first token, then {@code tokens - 1} more, {@code msPerToken} apart:
 * <ul>
 *   <li>relayed tokens/s and time to first token (p50/p99) of {@code sessions} conversations, each running
 *       {@code turns} turns back to back, against one upstream (the plain engine) and against a pool of three;</li>
 *   <li>the share of turns that reach the upstream that served the conversation's previous turn, with the pool's
 *       placement and with round-robin over the same three upstreams;</li>
 *   <li>failover: one of the three upstreams is closed mid-run; the turns that fail, and the time to first token of
 *       the turns that were sent to it after it went (refused connection, retry on the next upstream).</li>
 * </ul>
 *
 * <pre>scripts/bench.sh pool [sessions=300] [turns=5] [tokens=16] [msPerToken=20]</pre>
 */
public final class PoolBench {
    private static final String MODEL = "llama3.2:latest";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** The engines' token timeout: short, so that a turn stuck on the closed upstream fails over within the run. */
    private static final Duration TOKEN_TIMEOUT = Duration.ofSeconds(5);
    /** Failed turns by the kind of their error, over all runs. */
    private static final Map<String, Integer> FAILURES = new ConcurrentHashMap<>();

    private record Run(long tokens, long wallNanos, long[] ttftNanos, int sticky, int afterFirst, int failed) {
        double tokensPerSecond() {
            return tokens / (wallNanos / 1e9);
        }

        double ttftMs(double quantile) {
            long[] sorted = ttftNanos.clone();
            Arrays.sort(sorted);
            return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, quantile * sorted.length)] / 1e6;
        }
    }

    /** Picks an engine per turn: the pool itself, or round-robin over the members. */
    private interface Route {
        ModelEngine engineFor(String conversation);
    }

    public static void main(String[] args) throws Exception {
        int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int turns = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int msPerToken = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        List<FakeOllama> fakes = new ArrayList<>();
        try {
            for (String name : List.of("A", "B", "C")) {
                fakes.add(FakeOllama.start(MODEL).recording(false).reply(reply(name, tokens, msPerToken)));
            }
            List<ModelEngine> members = new ArrayList<>();
            Map<String, ModelEngine> byUrl = new LinkedHashMap<>();
            for (FakeOllama f : fakes) {
                ModelEngine e = new OllamaEngine(f.baseUri(), MODEL, TOKEN_TIMEOUT);
                members.add(e);
                byUrl.put(f.baseUri().toString(), e);
            }
            ModelEngine single = members.getFirst();
            UpstreamPool pool = new UpstreamPool(byUrl, PoolSettings.DEFAULTS, quiet());
            AtomicInteger next = new AtomicInteger();
            Route roundRobin = c -> members.get(Math.floorMod(next.getAndIncrement(), members.size()));

            run(c -> single, sessions, 1, tokens, null); // warm-up
            Run one = run(c -> single, sessions, turns, tokens, null);
            Run three = run(c -> pool, sessions, turns, tokens, null);
            Run rr = run(roundRobin, sessions, turns, tokens, null);
            System.out.printf("%d sessions x %d turns x %d tokens at %d ms/token, fakes in this JVM%n%n", sessions,
                    turns, tokens, msPerToken);
            System.out.println("| upstreams | placement | tokens/s | TTFT p50 ms | TTFT p99 ms | TTFT max ms | turns on the previous turn's upstream | failed turns |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            print("1", "(plain engine)", one);
            print("3", "rendezvous + bounded load", three);
            print("3", "round-robin", rr);

            CompletableFuture<Void> halfway = new CompletableFuture<>();
            CompletableFuture<Run> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return run(c -> pool, sessions, turns, tokens, halfway);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            halfway.join();
            fakes.get(1).close();
            Run failover = running.join();
            System.out.println();
            System.out.println("Failover: upstream B closed while the run was under way");
            System.out.println();
            System.out.println("| upstreams | placement | tokens/s | TTFT p50 ms | TTFT p99 ms | TTFT max ms | turns on the previous turn's upstream | failed turns |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            print("3, one closed mid-run", "rendezvous + bounded load", failover);
            System.out.println();
            System.out.println("failed turns by error kind: " + FAILURES);
            pool.close();
        } finally {
            fakes.forEach(FakeOllama::close);
        }
    }

    private static FakeOllama.Reply reply(String name, int tokens, int msPerToken) {
        List<String> words = new ArrayList<>();
        words.add(name);
        for (int i = 1; i < tokens; i++) {
            words.add(" t" + i);
        }
        return FakeOllama.Reply.tokens(words).tokenDelay(Duration.ofMillis(msPerToken));
    }

    private static void print(String upstreams, String placement, Run r) {
        System.out.printf("| %s | %s | %.0f | %.1f | %.1f | %.1f | %.1f%% | %d |%n", upstreams, placement,
                r.tokensPerSecond(), r.ttftMs(0.5), r.ttftMs(0.99), r.ttftMs(1.0),
                r.afterFirst == 0 ? 0 : 100.0 * r.sticky / r.afterFirst, r.failed);
    }

    /**
     * {@code sessions} conversations at once, each {@code turns} turns back to back; with {@code halfway} set, the
     * caller closes an upstream once half of the turns were started, and the run waits for it.
     */
    private static Run run(Route route, int sessions, int turns, int tokens, CompletableFuture<Void> halfway)
            throws InterruptedException {
        AtomicLong relayed = new AtomicLong();
        AtomicInteger sticky = new AtomicInteger();
        AtomicInteger afterFirst = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger started = new AtomicInteger();
        long[] ttft = new long[sessions * turns];
        AtomicInteger ttftCount = new AtomicInteger();
        Map<String, String> lastServer = new ConcurrentHashMap<>();
        List<ChatMessage> prompt = List.of(ChatMessage.system("You are brief."), ChatMessage.user("go on"));
        long begin = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < sessions; s++) {
            String conversation = "bench-" + s;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int t = 0; t < turns; t++) {
                    if (halfway != null && started.incrementAndGet() == sessions * turns / 2) {
                        halfway.complete(null);
                    }
                    long sent = System.nanoTime();
                    AtomicLong first = new AtomicLong();
                    try {
                        String text = route.engineFor(conversation).generate(conversation, prompt,
                                GenerationOptions.DEFAULTS, d -> {
                                    first.compareAndSet(0, System.nanoTime());
                                    relayed.incrementAndGet();
                                }).result().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).text();
                        ttft[ttftCount.getAndIncrement()] = first.get() - sent;
                        String server = text.substring(0, 1);
                        String previous = lastServer.put(conversation, server);
                        if (previous != null) {
                            afterFirst.incrementAndGet();
                            sticky.addAndGet(previous.equals(server) ? 1 : 0);
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        Throwable cause = e.getCause() != null ? e.getCause() : e;
                        FAILURES.merge(cause instanceof EngineException ee ? ee.kind().name()
                                : cause.getClass().getSimpleName(), 1, Integer::sum);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        long wall = System.nanoTime() - begin;
        return new Run(relayed.get(), wall, Arrays.copyOf(ttft, ttftCount.get()), sticky.get(), afterFirst.get(),
                failed.get());
    }

    private static PoolListener quiet() {
        return new PoolListener() {
            @Override
            public void moved(String key, String from, String to, String why) {
            }

            @Override
            public void retried(String key, String from, String to, String why) {
            }

            @Override
            public void down(String upstream, String why) {
            }

            @Override
            public void up(String upstream) {
            }
        };
    }
}
