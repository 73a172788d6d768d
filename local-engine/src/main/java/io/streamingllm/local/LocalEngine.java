package io.streamingllm.local;

import io.streamingllm.core.config.ModelSpec;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.local.kv.KvStore;
import io.streamingllm.local.kv.ModelFingerprint;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.tensor.FloatTensor;
import io.streamingllm.local.template.ChatTemplate;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs a GGUF model inside this process ({@code gguf:PATH} or {@code ollama-store:NAME[:TAG]}).
 *
 * <p>One model instance serves every caller, so generations are <b>serialised</b>: they queue on one
 * worker thread and run one at a time, in order (the forward pass itself uses {@code threads} cores).
 * A cancelled generation that has not started yet finishes at once as cancelled with no text. As
 * Ollama's first answer after a load does, the first result reports the model's load time in
 * {@code loadNanos} (the load happened in {@code open}, before the call; later results report 0).
 *
 * <p>Each generation runs over a StreamingLLM KV cache: {@code startSize} sinks plus a recent window
 * (capped so the cache never exceeds the model's trained context), so a long prompt or answer never
 * fails for lack of context; while everything fits it is exact dense attention.
 *
 * <p><b>Sessions keep their cache.</b> {@link #generate(String, List, GenerationOptions, TokenListener)} keeps
 * the conversation's KV cache between turns (at most {@code maxSessions} conversations in memory, least
 * recently used leaving first), so that a turn prefills only its new messages ({@link Session}). With a
 * {@link KvDisk} the caches are also saved under {@code DATA_DIR/kv} after each turn (in the background) and
 * restored when a conversation comes back after it left memory or after a restart ({@link SavedSessions}).
 *
 * <p>Thread-safe: any thread may call it; the worker thread alone touches the model and the sessions.
 */
public final class LocalEngine implements ModelEngine {
    /** Conversations whose KV caches are kept in memory by default. */
    public static final int DEFAULT_MAX_SESSIONS = 16;
    /** How long {@link #close()} waits for the KV cache saves still queued. */
    private static final long SAVE_TIMEOUT_SECONDS = 120;

    /**
     * Where conversations' KV caches are saved ({@code DATA_DIR/kv}) and the disk budget of those files;
     * {@link #NONE}: kept in memory only.
     */
    public record KvDisk(Path dir, long budgetBytes) {
        public static final KvDisk NONE = new KvDisk(null, 0);

        public boolean enabled() {
            return dir != null && budgetBytes > 0;
        }
    }

    private final String modelName;
    private final ChatModel model;
    private final Sessions sessions;
    private final GenerationLoop loop;
    private final ExecutorService worker;
    private volatile boolean closing;
    private volatile LocalGeneration running; // the generation on the worker now, for close() to cancel

    private LocalEngine(String modelName, ChatModel model, int startSize, int recentSize, int defaultMaxNewTokens,
                        int maxSessions, SavedSessions saved) {
        this.modelName = modelName;
        this.model = model;
        this.sessions = new Sessions(model.config(), startSize, recentSize, maxSessions, saved);
        this.loop = new GenerationLoop(model, sessions, defaultMaxNewTokens);
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
        KvDisk disk = config.kvDiskMb() > 0 ? new KvDisk(config.kvDir(), (long) config.kvDiskMb() << 20) : KvDisk.NONE;
        return open(spec.name(), file, threads, config.startSize(), config.recentSize(), config.maxNewTokens(),
                DEFAULT_MAX_SESSIONS, disk);
    }

    /**
     * Loads {@code file}; {@link EngineException} MODEL_NOT_FOUND when it cannot be read or is not a model
     * this engine runs (the message says why).
     */
    public static LocalEngine open(String modelName, Path file, int threads, int startSize, int recentSize,
                                   int defaultMaxNewTokens) {
        return open(modelName, file, threads, startSize, recentSize, defaultMaxNewTokens, DEFAULT_MAX_SESSIONS);
    }

    public static LocalEngine open(String modelName, Path file, int threads, int startSize, int recentSize,
                                   int defaultMaxNewTokens, int maxSessions) {
        return open(modelName, file, threads, startSize, recentSize, defaultMaxNewTokens, maxSessions, KvDisk.NONE);
    }

    /**
     * As above, saving conversations' KV caches to {@code disk} and restoring them from it (after a restart
     * too); {@link EngineException} INTERNAL when its directory cannot be used.
     */
    public static LocalEngine open(String modelName, Path file, int threads, int startSize, int recentSize,
                                   int defaultMaxNewTokens, int maxSessions, KvDisk disk) {
        ChatModel model = ChatModel.open(file, threads);
        if (!FloatTensor.nativeVectors()) {
            System.getLogger(LocalEngine.class.getName()).log(System.Logger.Level.WARNING, "local engine: this JVM's"
                    + " vectors are 128-bit (NEON or -XX:MaxVectorSize=16); its kernels need 256-bit ones (AVX2, AVX-512,"
                    + " SVE-256) and run 15-150x slower without them");
        }
        SavedSessions saved;
        try {
            saved = disk.enabled()
                    ? SavedSessions.on(KvStore.open(disk.dir(), disk.budgetBytes(), ModelFingerprint.of(file)), modelName)
                    : SavedSessions.inMemoryOnly();
        } catch (IOException | RuntimeException e) {
            model.close();
            throw new EngineException(EngineException.Kind.INTERNAL, "cannot keep KV caches in " + disk.dir() + ": " + e, e);
        }
        try {
            return new LocalEngine(modelName, model, startSize, recentSize, defaultMaxNewTokens, maxSessions, saved);
        } catch (RuntimeException e) {
            model.close();
            throw ChatModel.notAModel(file, e);
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

    /** The loaded model, listed by its {@link #modelId()}. */
    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(modelId(), 0, engineName()));
    }

    /**
     * The name clients use for the loaded model: a GGUF file's name without its directory and {@code .gguf}
     * ({@code stories260K} for {@code /models/stories260K.gguf}), an Ollama-store model's own name. Requests may
     * also name it as configured.
     */
    public String modelId() {
        String name = modelName.substring(Math.max(modelName.lastIndexOf('/'), modelName.lastIndexOf('\\')) + 1);
        return name.regionMatches(true, Math.max(0, name.length() - 5), ".gguf", 0, 5) && name.length() > 5
                ? name.substring(0, name.length() - 5) : name;
    }

    public ModelConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    public ChatTemplate template() {
        return model.template();
    }

    @Override
    public EngineHealth health() {
        ModelConfig c = model.config();
        return EngineHealth.ready("local engine ready: " + modelName + " (" + c.architecture() + ", " + c.layers()
                + " layers, dim " + c.dim() + ", context " + c.contextLength() + ", " + model.template().family() + " template)");
    }

    @Override
    public Optional<TokenCounter> exactTokenCounter() {
        Tokenizer tokenizer = model.tokenizer();
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

    /** Queues the generation on the worker and returns at once; {@code listener} is called on the worker thread. */
    @Override
    public Generation generate(String sessionKey, List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        LocalGeneration g = new LocalGeneration(sessionKey, messages, options, listener);
        try {
            worker.execute(() -> runOnWorker(g));
        } catch (RejectedExecutionException e) {
            g.result().completeExceptionally(closed());
        }
        return g;
    }

    private void runOnWorker(LocalGeneration g) {
        running = g;
        try {
            if (closing) { // queued before close(): it fails instead of running (or waiting forever)
                g.result().completeExceptionally(closed());
                return;
            }
            loop.run(g);
        } finally {
            running = null;
        }
    }

    private static EngineException closed() {
        return new EngineException(EngineException.Kind.INTERNAL, "local engine is closed");
    }

    /**
     * A JSON format is checked here, before a turn starts: a schema keyword this engine cannot enforce, a
     * vocabulary without the bytes JSON needs, or too few new tokens for the smallest valid value is an
     * {@link EngineException} BAD_REQUEST naming it. So is a call {@code tool_choice} forces ({@link ForcedCall})
     * that cannot fit in the new tokens, and tools for a template without a tool format.
     */
    @Override
    public void requireSupported(GenerationOptions options) {
        ModelInfo.requireServed(options, modelId(), modelName);
        if (options.tools().enabled() && model.template().toolFormat() == ChatTemplate.ToolFormat.NONE) {
            // refused rather than dropped: a model that never sees its tools answers as if it had none
            throw new EngineException(EngineException.Kind.BAD_REQUEST, "this model's chat template has no tool format ("
                    + model.template().family() + "; the local engine renders tools for ChatML templates with "
                    + "<tool_call>, such as Qwen 2.5's, and Llama 3.1's)");
        }
        if (options.tools().enabled() && options.format().constrained()) {
            throw new EngineException(EngineException.Kind.BAD_REQUEST, "tools and a JSON format cannot be combined on "
                    + "the local engine: the format would keep the model from writing a call");
        }
        if (options.format().constrained()) {
            loop.json(options.format(), loop.maxNewTokens(options));
        }
        loop.forced(options, GenerationLoop.offered(options.tools()), loop.maxNewTokens(options));
    }

    @Override
    public void endSession(String sessionKey) {
        try {
            worker.execute(() -> sessions.remove(sessionKey));
        } catch (RejectedExecutionException e) {
            // closed: nothing is kept
        }
    }

    /** What a session's cache holds: tokens in it, tokens streamed through it, dialogue messages remembered. */
    public record SessionStats(int cachedTokens, long streamedTokens, int messages) {
    }

    /**
     * Waits until the turns queued so far have ended and their KV caches are saved (nothing to wait for without
     * a {@link KvDisk}); for tests and benchmarks that restart an engine.
     */
    public void awaitSaved() throws InterruptedException {
        try {
            worker.submit(() -> { }).get();
        } catch (ExecutionException | RejectedExecutionException e) {
            // closed: close() waited for the saves
        }
        sessions.saved().awaitQueued();
    }

    /**
     * The state of {@code sessionKey}'s cache, if it is kept. Blocks until the worker has run the
     * generations queued before it.
     */
    public Optional<SessionStats> session(String sessionKey) {
        try {
            return worker.submit(() -> Optional.ofNullable(sessions.get(sessionKey))
                    .map(s -> new SessionStats(s.cache().length(), s.cache().nextPosition(), s.messages()))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException | RejectedExecutionException e) {
            return Optional.empty();
        }
    }

    /**
     * Stops: new generations fail at once, queued ones fail with "local engine is closed", the running one is
     * cancelled (it ends at its next token; a prefill under way finishes first); then, once the worker has
     * stopped (waiting up to 30 s), the model is unmapped.
     */
    @Override
    public void close() {
        closing = true;
        LocalGeneration current = running;
        if (current != null) {
            current.cancel();
        }
        worker.shutdown(); // the queue drains: queued generations fail fast, session requests still answer
        try {
            boolean stopped = worker.awaitTermination(30, TimeUnit.SECONDS);
            sessions.close(SAVE_TIMEOUT_SECONDS); // every turn's save is on disk before the process goes
            if (stopped) {
                model.close(); // only once no forward pass can touch the mapping
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
