package io.streamingllm.core.engine.echo;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The wiring and load-test engine ({@code STREAMING_LLM_MODEL=echo}): streams the last user message
 * back word by word, each token a word with its leading whitespace (see {@link WordTokens}), so the
 * answer equals the message exactly. Needs no model, answers instantly (or after
 * {@code STREAMING_LLM_ECHO_DELAY_MS} per token) and counts tokens exactly, which makes it the engine
 * for checking a deployment end to end and for measuring everything but the model.
 *
 * <p>Honours {@code maxNewTokens} (finish reason {@code length}), stop strings (the answer ends where the first
 * begins) and cancel (finish reason
 * {@code cancelled} with the text streamed so far); a cancel also ends a per-token wait at once.
 */
public final class EchoEngine implements ModelEngine {
    private static final TokenCounter COUNTER = new TokenCounter() {
        @Override
        public int count(String text) {
            return WordTokens.count(text);
        }

        @Override
        public boolean exact() {
            return true;
        }
    };

    private final long delayNanos;

    /** @param perTokenDelayMs wait before each token, 0 for none */
    public EchoEngine(long perTokenDelayMs) {
        if (perTokenDelayMs < 0) {
            throw new IllegalArgumentException("per-token delay must be >= 0 ms, got " + perTokenDelayMs);
        }
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(perTokenDelayMs);
    }

    @Override
    public String engineName() {
        return "echo";
    }

    @Override
    public String model() {
        return "echo";
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        List<ChatMessage> prompt = List.copyOf(messages);
        GenerationOptions opts = options == null ? GenerationOptions.DEFAULTS : options;
        EchoGeneration generation = new EchoGeneration();
        Thread.ofVirtual().name("echo-generation").start(() -> generation.run(prompt, opts, listener));
        return generation;
    }

    /** It serves one model, {@code echo}: a request naming another is refused. */
    @Override
    public void requireSupported(GenerationOptions options) {
        ModelInfo.requireServed(options, model());
        if (options.tools().enabled()) {
            throw new EngineException(EngineException.Kind.BAD_REQUEST, "the echo engine cannot call tools: it only "
                    + "echoes the last user message (serve an ollama or openai: model for tool calling)");
        }
    }

    @Override
    public EngineHealth health() {
        return EngineHealth.ready("echo engine ready: it streams the last user message back word by word");
    }

    @Override
    public Optional<TokenCounter> exactTokenCounter() {
        return Optional.of(COUNTER);
    }

    private final class EchoGeneration implements Generation {
        private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private final CountDownLatch cancelled = new CountDownLatch(1);

        @Override
        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            cancelled.countDown();
        }

        void run(List<ChatMessage> prompt, GenerationOptions options, TokenListener listener) {
            long start = System.nanoTime();
            try {
                int promptTokens = 0;
                String last = "";
                for (ChatMessage m : prompt) {
                    promptTokens += WordTokens.count(m.content());
                    if (m.role() == ChatMessage.Role.USER) {
                        last = m.content();
                    }
                }
                long evalStart = System.nanoTime();
                int max = options.maxNewTokens() == null ? Integer.MAX_VALUE : Math.max(0, options.maxNewTokens());
                // a stop string ends the answer where it begins, as an upstream's would
                for (String stop : options.stop()) {
                    int at = stop.isEmpty() ? -1 : last.indexOf(stop);
                    if (at >= 0) {
                        last = last.substring(0, at);
                    }
                }
                int emitted = 0;
                int end = 0;
                FinishReason finish = FinishReason.STOP;
                int pos = 0;
                while (pos < last.length()) {
                    if (emitted == max) {
                        finish = FinishReason.LENGTH;
                        break;
                    }
                    if (delayNanos > 0 ? cancelled.await(delayNanos, TimeUnit.NANOSECONDS) : cancelled.getCount() == 0) {
                        finish = FinishReason.CANCELLED;
                        break;
                    }
                    int next = WordTokens.next(last, pos);
                    listener.onToken(last.substring(pos, next));
                    emitted++;
                    end = next;
                    pos = next;
                }
                long now = System.nanoTime();
                result.complete(new GenerationResult(last.substring(0, end), finish, promptTokens, emitted,
                        now - start, 0, evalStart - start, now - evalStart, true));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.completeExceptionally(new EngineException(EngineException.Kind.INTERNAL, "echo generation interrupted", e));
            } catch (RuntimeException e) {
                result.completeExceptionally(new EngineException(EngineException.Kind.INTERNAL,
                        "token listener failed: " + e.getMessage(), e));
            }
        }
    }
}
