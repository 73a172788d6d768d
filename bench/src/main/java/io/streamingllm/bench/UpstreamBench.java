package io.streamingllm.bench;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.openai.OpenAiEngine;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.core.testing.FakeOpenAi;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The engines' own cost per relayed token, Ollama (NDJSON) against OpenAI-compatible (server-sent events): each
 * engine streams from its fake upstream (in this JVM) at full speed, {@code sessions} generations at a time, and the
 * figure is this process's CPU per million tokens (the engine and its fake upstream: the calls' threads are virtual,
 * so no platform thread holds the engine's share alone; the fakes cost the same before and after an engine change),
 * with tokens/s of the whole run. Rounds alternate the engines after a warm-up of each, so the JIT
 * has settled for both.
 *
 * <pre>scripts/bench.sh upstream [sessions=200] [rounds=20] [tokens=32]</pre>
 */
public final class UpstreamBench {
    private static final List<ChatMessage> PROMPT = List.of(ChatMessage.system("You are brief."),
            ChatMessage.user("Tell me something."));

    private record Figure(long tokens, long cpuNanos, long wallNanos) {
        Figure plus(Figure o) {
            return new Figure(tokens + o.tokens, cpuNanos + o.cpuNanos, wallNanos + o.wallNanos);
        }
    }

    public static void main(String[] args) throws Exception {
        int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        List<String> reply = new ArrayList<>();
        for (int i = 0; i < tokens; i++) {
            reply.add(" tok" + i);
        }
        try (FakeOllama ollamaFake = FakeOllama.start("llama3.2:latest").recording(false);
             FakeOpenAi openAiFake = FakeOpenAi.start("llama3.2:latest").recording(false);
             OllamaEngine ollama = new OllamaEngine(ollamaFake.baseUri(), "llama3.2:latest", Duration.ofSeconds(60));
             OpenAiEngine openai = new OpenAiEngine(openAiFake.baseUri(), "llama3.2:latest", "sk-bench", Duration.ofSeconds(60))) {
            ollamaFake.reply(FakeOllama.Reply.tokens(reply));
            openAiFake.reply(FakeOpenAi.Reply.tokens(reply));
            for (int i = 0; i < Math.max(3, rounds / 2); i++) {
                round(ollama, sessions, tokens);
                round(openai, sessions, tokens);
            }
            Figure o = new Figure(0, 0, 0);
            Figure a = new Figure(0, 0, 0);
            for (int i = 0; i < rounds; i++) {
                o = o.plus(round(ollama, sessions, tokens));
                a = a.plus(round(openai, sessions, tokens));
            }
            System.out.println("| engine | sessions | tokens/reply | tokens | tokens/s | process CPU s per M tokens (engine + fake) |");
            System.out.println("|---|---|---|---|---|---|");
            print("ollama (NDJSON)", sessions, tokens, o);
            print("openai (SSE)", sessions, tokens, a);
        }
    }

    private static void print(String name, int sessions, int tokens, Figure f) {
        System.out.printf("| %s | %d | %d | %d | %.0f | %.2f |%n", name, sessions, tokens, f.tokens,
                f.tokens / (f.wallNanos / 1e9), f.cpuNanos / 1e9 / (f.tokens / 1e6));
    }

    /** One round: {@code sessions} generations at once, each expected to relay {@code tokens} deltas. */
    private static Figure round(ModelEngine engine, int sessions, int tokens) throws Exception {
        AtomicLong deltas = new AtomicLong();
        Consumer<String> count = d -> deltas.incrementAndGet();
        long cpuBefore = cpuNanos();
        long started = System.nanoTime();
        List<Generation> running = new ArrayList<>(sessions);
        for (int i = 0; i < sessions; i++) {
            running.add(engine.generate(PROMPT, GenerationOptions.DEFAULTS, count::accept));
        }
        for (Generation g : running) {
            g.result().get(60, TimeUnit.SECONDS);
        }
        long wall = System.nanoTime() - started;
        long got = deltas.get();
        if (got != (long) sessions * tokens) {
            throw new IllegalStateException(engine.engineName() + " relayed " + got + " tokens, expected " + sessions * tokens);
        }
        return new Figure(got, cpuNanos() - cpuBefore, wall);
    }

    /** This process's CPU time. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
