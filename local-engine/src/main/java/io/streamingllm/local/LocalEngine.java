package io.streamingllm.local;

import io.streamingllm.core.config.ModelSpec;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.model.Sampler;
import io.streamingllm.local.template.ChatTemplate;
import io.streamingllm.local.tokenizer.StreamingDecoder;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a GGUF model inside this process ({@code gguf:PATH} or {@code ollama-store:NAME[:TAG]}).
 *
 * <p>One model instance serves every caller, so generations are <b>serialised</b>: they queue on one
 * worker thread and run one at a time, in order (the forward pass itself uses {@code threads} cores).
 * A cancelled generation that has not started yet finishes at once as cancelled with no text.
 *
 * <p>Each generation runs over its own StreamingLLM KV cache: {@code startSize} sinks plus a recent
 * window (capped so the cache never exceeds the model's trained context), so a long prompt or answer
 * never fails for lack of context; while everything fits it is exact dense attention.
 *
 * <p><b>Sessions keep their cache.</b> {@link #generate(String, List, GenerationOptions, TokenListener)} keeps
 * the conversation's KV cache between turns (at most {@code maxSessions} conversations, least recently
 * used dropped first), with the dialogue messages whose tokens it holds. When those messages end with the
 * new prompt's leading dialogue messages (the system/summary message is ignored after the first turn:
 * the cache's sinks + recent window is then the context manager), only the new messages are rendered
 * ({@link ChatTemplate#renderFollowUp}) and prefilled, so a turn costs its own tokens, not the window's;
 * otherwise the session's cache starts over from the whole prompt. A cancelled or failed turn rolls the
 * cache back to where it was before the turn when nothing was evicted meanwhile. Otherwise a cancelled
 * turn stays in the cache as far as it got (a next prompt without it then starts the cache over), and a
 * failed one, whose cache state is unknown, starts the session over.
 */
public final class LocalEngine implements ModelEngine {
    /** Ollama's defaults for the knobs {@link GenerationOptions} does not carry. */
    static final float DEFAULT_TEMPERATURE = 0.8f;
    static final int DEFAULT_TOP_K = 40;
    static final float DEFAULT_TOP_P = 0.9f;

    private final String modelName;
    private final LoadedModel model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Set<Integer> stopTokens;
    private final int startSize;
    private final int recentSize;
    private final int defaultMaxNewTokens;
    private final ExecutorService worker;
    private final long loadNanos;
    private final int maxSessions;
    private final Map<String, Session> sessions = new java.util.LinkedHashMap<>(16, 0.75f, true); // worker thread only
    private final java.util.concurrent.atomic.AtomicLong prefilledTokens = new java.util.concurrent.atomic.AtomicLong();

    private LocalEngine(String modelName, LoadedModel model, int startSize, int recentSize, int defaultMaxNewTokens,
                        long loadNanos, int maxSessions) {
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be >= 0, got " + maxSessions);
        }
        this.maxSessions = maxSessions;
        this.modelName = modelName;
        this.model = model;
        this.tokenizer = Tokenizer.fromGguf(model.metadata());
        this.template = ChatTemplate.fromGguf(model.metadata(), tokenizer);
        this.stopTokens = template.stopTokenIds();
        ModelConfig c = model.config();
        this.startSize = Math.min(startSize, c.contextLength() - 1);
        this.recentSize = Math.max(1, Math.min(recentSize, c.contextLength() - this.startSize));
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.loadNanos = loadNanos;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "local-engine-" + modelName);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The engine for the sidecar's local {@link ModelSpec} ({@code gguf:} or {@code ollama-store:}), with
     * its sink/recent sizes and default max tokens; {@code env} supplies {@code OLLAMA_MODELS};
     * {@code threads} is usually {@link Runtime#availableProcessors()}. The JVM needs
     * {@code --add-modules jdk.incubator.vector}.
     */
    public static LocalEngine open(SidecarConfig config, Map<String, String> env, int threads) {
        ModelSpec spec = config.model();
        Path file = switch (spec.kind()) {
            case GGUF -> Path.of(spec.name());
            case OLLAMA_STORE -> OllamaStore.fromEnvironment(env).resolve(spec.name());
            default -> throw new IllegalArgumentException("not a local model: " + spec);
        };
        return open(spec.name(), file, threads, config.startSize(), config.recentSize(), config.maxNewTokens());
    }

    /**
     * Loads {@code file}; {@link EngineException} MODEL_NOT_FOUND when it cannot be read or is not a model
     * this engine runs (the message says why).
     */
    public static LocalEngine open(String modelName, Path file, int threads, int startSize, int recentSize,
                                   int defaultMaxNewTokens) {
        return open(modelName, file, threads, startSize, recentSize, defaultMaxNewTokens, DEFAULT_MAX_SESSIONS);
    }

    /** Conversations whose KV caches are kept by default. */
    public static final int DEFAULT_MAX_SESSIONS = 16;

    public static LocalEngine open(String modelName, Path file, int threads, int startSize, int recentSize,
                                   int defaultMaxNewTokens, int maxSessions) {
        long t0 = System.nanoTime();
        LoadedModel model;
        try {
            model = LoadedModel.open(file, threads);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "cannot read model file " + file + ": " + e.getMessage(), e);
        } catch (GgufException e) {
            throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, e.getMessage(), e);
        }
        try {
            return new LocalEngine(modelName, model, startSize, recentSize, defaultMaxNewTokens, System.nanoTime() - t0, maxSessions);
        } catch (RuntimeException e) {
            model.close();
            throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String engineName() {
        return "local";
    }

    @Override
    public String model() {
        return modelName;
    }

    public ModelConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate template() {
        return template;
    }

    @Override
    public EngineHealth health() {
        ModelConfig c = model.config();
        return EngineHealth.ready("local engine ready: " + modelName + " (" + c.architecture() + ", " + c.layers()
                + " layers, dim " + c.dim() + ", context " + c.contextLength() + ", " + template.family() + " template)");
    }

    @Override
    public Optional<TokenCounter> exactTokenCounter() {
        return Optional.of(new TokenCounter() {
            @Override
            public int count(String text) {
                return tokenizer.encode(text).length;
            }

            @Override
            public boolean exact() {
                return true;
            }
        });
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        return generate(null, messages, options, listener);
    }

    @Override
    public Generation generate(String sessionKey, List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        LocalGeneration g = new LocalGeneration(sessionKey, List.copyOf(messages),
                options == null ? GenerationOptions.DEFAULTS : options, listener);
        try {
            worker.execute(g::run);
        } catch (RejectedExecutionException e) {
            g.result.completeExceptionally(new EngineException(EngineException.Kind.INTERNAL, "local engine is closed"));
        }
        return g;
    }

    @Override
    public void endSession(String sessionKey) {
        try {
            worker.execute(() -> sessions.remove(sessionKey));
        } catch (RejectedExecutionException e) {
            // closed: nothing is kept
        }
    }

    /** Prompt tokens prefilled by every generation so far. */
    public long prefilledTokens() {
        return prefilledTokens.get();
    }

    /** What a session's cache holds: tokens in it, tokens streamed through it, dialogue messages remembered. */
    public record SessionStats(int cachedTokens, long streamedTokens, int messages) {
    }

    /** The state of {@code sessionKey}'s cache, if it is kept (read between generations, on the worker). */
    public Optional<SessionStats> session(String sessionKey) {
        try {
            return worker.submit(() -> Optional.ofNullable(sessions.get(sessionKey))
                    .map(s -> new SessionStats(s.cache.length(), s.cache.nextPosition(), s.dialogue.size()))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (java.util.concurrent.ExecutionException | RejectedExecutionException e) {
            return Optional.empty();
        }
    }

    /** A conversation's KV cache and the dialogue messages (no system messages) whose tokens it holds. */
    private static final class Session {
        static final int REMEMBERED_MESSAGES = 256; // only the newest are ever matched against a prompt
        final KvCache cache;
        final List<ChatMessage> dialogue = new java.util.ArrayList<>();
        int pending = -1; // last answer token sampled but not yet fed to the cache

        Session(KvCache cache) {
            this.cache = cache;
        }

        void reset() {
            cache.clear();
            dialogue.clear();
            pending = -1;
        }

        void remember(List<ChatMessage> added) {
            dialogue.addAll(added);
            if (dialogue.size() > REMEMBERED_MESSAGES) {
                dialogue.subList(0, dialogue.size() - REMEMBERED_MESSAGES).clear();
            }
        }

        /**
         * The messages of {@code prompt} after its longest leading run that ends the cached dialogue, or
         * null when there is none or nothing new follows it.
         */
        List<ChatMessage> newMessages(List<ChatMessage> prompt) {
            for (int k = Math.min(dialogue.size(), prompt.size() - 1); k >= 1; k--) {
                boolean match = true;
                for (int i = 0; i < k && match; i++) {
                    match = same(prompt.get(i), dialogue.get(dialogue.size() - k + i));
                }
                if (match) {
                    return prompt.subList(k, prompt.size());
                }
            }
            return null;
        }

        private static boolean same(ChatMessage a, ChatMessage b) {
            return a.role() == b.role() && a.content().strip().equals(b.content().strip());
        }
    }

    /** The session's cache for this key, created (dropping the least recently used beyond the limit) if new. */
    private Session sessionFor(String key) {
        Session s = sessions.get(key);
        if (s == null) {
            s = new Session(KvCache.streaming(model.config(), startSize, recentSize));
            if (maxSessions > 0) {
                sessions.put(key, s);
                while (sessions.size() > maxSessions) {
                    sessions.remove(sessions.keySet().iterator().next());
                }
            }
        }
        return s;
    }

    @Override
    public void close() {
        worker.shutdownNow();
        try {
            if (worker.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                model.close(); // only once no forward pass can touch the mapping
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class LocalGeneration implements Generation {
        final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private final String sessionKey;
        private final List<ChatMessage> messages;
        private final GenerationOptions options;
        private final TokenListener listener;
        private volatile boolean cancelled;

        LocalGeneration(String sessionKey, List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
            this.sessionKey = sessionKey;
            this.messages = messages;
            this.options = options;
            this.listener = listener;
        }

        @Override
        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        void run() {
            long start = System.nanoTime();
            StopMatcher text = new StopMatcher(options.stop());
            Session session = null;
            KvCache.Mark mark = null;
            int pendingBefore = -1;
            try {
                int[] prompt;
                KvCache cache;
                List<ChatMessage> added;
                List<ChatMessage> dialogue = messages.stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).toList();
                if (sessionKey == null) {
                    cache = KvCache.streaming(model.config(), startSize, recentSize);
                    prompt = template.render(messages);
                    added = dialogue;
                } else {
                    session = sessionFor(sessionKey);
                    cache = session.cache;
                    List<ChatMessage> fresh = session.newMessages(dialogue);
                    if (fresh == null) {
                        session.reset();
                        prompt = template.render(messages);
                        added = dialogue;
                    } else {
                        int[] followUp = template.renderFollowUp(fresh);
                        prompt = followUp;
                        if (session.pending >= 0) {
                            prompt = new int[followUp.length + 1];
                            prompt[0] = session.pending;
                            System.arraycopy(followUp, 0, prompt, 1, followUp.length);
                        }
                        added = fresh;
                    }
                    mark = cache.mark();
                    pendingBefore = session.pending;
                }
                boolean wholePrompt = added == dialogue;
                int max = options.maxNewTokens() == null ? defaultMaxNewTokens : Math.max(0, options.maxNewTokens());
                float temperature = options.temperature() == null ? DEFAULT_TEMPERATURE : options.temperature().floatValue();
                long seed = options.seed() == null ? ThreadLocalRandom.current().nextLong() : options.seed();
                Sampler sampler = new Sampler(temperature, DEFAULT_TOP_K, DEFAULT_TOP_P, seed);
                if (cancelled) {
                    complete(text.text(), FinishReason.CANCELLED, prompt.length, 0, start, start, start, wholePrompt);
                    return;
                }
                float[] logits = model.transformer().prefill(cache, prompt, true);
                prefilledTokens.addAndGet(prompt.length);
                int unfed = -1; // last sampled answer token not yet fed to the cache
                long evalStart = System.nanoTime();
                StreamingDecoder decoder = new StreamingDecoder(tokenizer, prompt.length == 1 && prompt[0] == tokenizer.specialTokens().bos());
                int generated = 0;
                FinishReason finish = FinishReason.LENGTH;
                while (generated < max) {
                    if (cancelled) {
                        finish = FinishReason.CANCELLED;
                        break;
                    }
                    int token = sampler.sample(logits);
                    if (stopTokens.contains(token)) {
                        finish = FinishReason.STOP;
                        break;
                    }
                    generated++;
                    unfed = token;
                    if (text.append(decoder.accept(token), listener)) {
                        finish = FinishReason.STOP;
                        break;
                    }
                    if (generated < max) {
                        logits = model.transformer().forward(cache, token);
                        unfed = -1;
                    }
                }
                if (finish != FinishReason.STOP || !text.stopped()) {
                    text.append(decoder.flush(), listener);
                }
                text.flush(listener);
                if (session != null) {
                    if (finish == FinishReason.CANCELLED && cache.rollback(mark)) {
                        session.pending = pendingBefore;
                    } else {
                        session.remember(added);
                        session.remember(List.of(ChatMessage.assistant(text.text())));
                        session.pending = unfed;
                    }
                }
                complete(text.text(), finish, prompt.length, generated, start, start, evalStart, wholePrompt);
            } catch (ListenerFailure e) {
                forgetFailedTurn(session, mark, pendingBefore);
                result.completeExceptionally(new EngineException(EngineException.Kind.INTERNAL,
                        "token listener failed: " + e.getCause().getMessage(), e.getCause()));
            } catch (RuntimeException | Error e) {
                forgetFailedTurn(session, mark, pendingBefore);
                result.completeExceptionally(new EngineException(EngineException.Kind.INTERNAL,
                        "local generation failed: " + e, e));
            }
        }

        /** After a failure the cache returns to its state before the turn, or is dropped when it cannot. */
        private void forgetFailedTurn(Session session, KvCache.Mark mark, int pendingBefore) {
            if (session == null) {
                return;
            }
            if (mark != null && session.cache.rollback(mark)) {
                session.pending = pendingBefore;
            } else {
                session.reset();
            }
        }

        /** {@code promptTokens} counts the tokens prefilled: the whole prompt, or only a session turn's new ones. */
        private void complete(String text, FinishReason finish, int promptTokens, int generated, long start,
                              long promptStart, long evalStart, boolean wholePrompt) {
            long now = System.nanoTime();
            result.complete(new GenerationResult(text, finish, promptTokens, generated, now - start, 0,
                    evalStart - promptStart, now - evalStart, wholePrompt));
        }
    }

    /** A failure thrown by the caller's listener, kept apart from the engine's own failures. */
    private static final class ListenerFailure extends RuntimeException {
        ListenerFailure(RuntimeException cause) {
            super(cause);
        }
    }

    /**
     * Accumulates generated text and forwards it to the listener, holding back any tail that could be the
     * start of a stop string; on a stop string the text ends just before it.
     */
    static final class StopMatcher {
        private final List<String> stops;
        private final StringBuilder text = new StringBuilder();
        private int emitted;
        private boolean stopped;

        StopMatcher(List<String> stops) {
            this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        }

        /** Adds a delta; true when a stop string completed (the text is then cut before it). */
        boolean append(String delta, TokenListener listener) {
            if (stopped || delta.isEmpty()) {
                return stopped;
            }
            int searchFrom = Math.max(0, emitted - maxStopLength());
            text.append(delta);
            int cut = -1;
            for (String s : stops) {
                int i = text.indexOf(s, searchFrom);
                if (i >= 0 && (cut < 0 || i < cut)) {
                    cut = i;
                }
            }
            if (cut >= 0) {
                text.setLength(cut);
                stopped = true;
                emit(cut, listener);
                return true;
            }
            emit(text.length() - heldBack(), listener);
            return false;
        }

        void flush(TokenListener listener) {
            emit(text.length(), listener);
        }

        boolean stopped() {
            return stopped;
        }

        String text() {
            return text.toString();
        }

        private void emit(int upTo, TokenListener listener) {
            if (upTo > emitted) {
                String delta = text.substring(emitted, upTo);
                emitted = upTo;
                try {
                    listener.onToken(delta);
                } catch (RuntimeException e) {
                    throw new ListenerFailure(e);
                }
            }
        }

        /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
        private int heldBack() {
            int best = 0;
            for (String s : stops) {
                for (int k = Math.min(s.length() - 1, text.length()); k > best; k--) {
                    if (endsWith(s, k)) {
                        best = k;
                        break;
                    }
                }
            }
            return best;
        }

        private boolean endsWith(String s, int k) {
            int off = text.length() - k;
            for (int i = 0; i < k; i++) {
                if (text.charAt(off + i) != s.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private int maxStopLength() {
            int m = 0;
            for (String s : stops) {
                m = Math.max(m, s.length());
            }
            return m;
        }
    }
}
