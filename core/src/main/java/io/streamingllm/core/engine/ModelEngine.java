package io.streamingllm.core.engine;

import java.util.List;
import java.util.Optional;

/**
 * The seam between sessions and a model: Ollama over HTTP, the echo engine, or the local GGUF engine.
 * Implementations are thread-safe; many generations may run at once.
 */
public interface ModelEngine extends AutoCloseable {
    /** Short engine name: {@code ollama}, {@code echo}, {@code local}. */
    String engineName();

    /** The model this engine serves, as the user named it (e.g. {@code llama3.2:latest}). */
    String model();

    /**
     * Starts streaming a generation. Deltas go to {@code listener} as they arrive. Never throws for engine
     * failures: they complete {@link Generation#result()} exceptionally with {@link EngineException}.
     */
    Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener);

    /**
     * A generation that continues conversation {@code sessionKey}. Engines that keep per-session state
     * (the local engine keeps the conversation's KV cache, so a turn prefills only its new tokens) use the
     * key; the others ignore it. The messages are still the whole windowed prompt.
     */
    default Generation generate(String sessionKey, List<ChatMessage> messages, GenerationOptions options,
                                TokenListener listener) {
        return generate(messages, options, listener);
    }

    /**
     * Checks, before a turn starts, that this engine can honour {@code options} (its {@link ResponseFormat}, …);
     * throws {@link EngineException} {@link EngineException.Kind#BAD_REQUEST} naming what it cannot. The default
     * accepts everything.
     */
    default void requireSupported(GenerationOptions options) {
    }

    /** Forgets any state kept for {@code sessionKey} (conversation archived or left memory). */
    default void endSession(String sessionKey) {
    }

    /**
     * The models this engine can serve: the upstream's list for an HTTP upstream, the loaded model otherwise.
     * Blocking; throws {@link EngineException} when the upstream cannot be asked.
     */
    default List<ModelInfo> models() {
        return List.of(new ModelInfo(model(), 0, engineName()));
    }

    /**
     * Embeddings of {@code inputs} by {@code model} (null: the configured model). Blocking; engines without
     * embeddings throw {@link EngineException.Kind#BAD_REQUEST}.
     */
    default Embeddings embed(String model, List<String> inputs) {
        throw new EngineException(EngineException.Kind.BAD_REQUEST,
                "the " + engineName() + " engine has no embeddings");
    }

    /** Probes reachability and model availability; never throws. */
    EngineHealth health();

    /** The model's own tokenizer, when this engine has one. */
    default Optional<TokenCounter> exactTokenCounter() {
        return Optional.empty();
    }

    @Override
    default void close() {
    }
}
