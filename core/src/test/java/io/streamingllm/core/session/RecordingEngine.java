package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** A real engine with every prompt it was sent recorded, so tests can check what the window produced. */
final class RecordingEngine implements ModelEngine {
    record Call(List<ChatMessage> messages, GenerationOptions options) {
    }

    private final ModelEngine delegate;
    final List<Call> calls = new CopyOnWriteArrayList<>();

    RecordingEngine(ModelEngine delegate) {
        this.delegate = delegate;
    }

    Call last() {
        return calls.get(calls.size() - 1);
    }

    @Override
    public String engineName() {
        return delegate.engineName();
    }

    @Override
    public String model() {
        return delegate.model();
    }

    /** When set, a constrained response format is refused with this message (BAD_REQUEST). */
    volatile String refusal;

    @Override
    public void requireSupported(GenerationOptions options) {
        if (refusal != null && options.format().constrained()) {
            throw new EngineException(EngineException.Kind.BAD_REQUEST, refusal);
        }
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        calls.add(new Call(List.copyOf(messages), options));
        return delegate.generate(messages, options, listener);
    }

    @Override
    public EngineHealth health() {
        return delegate.health();
    }

    @Override
    public Optional<TokenCounter> exactTokenCounter() {
        return delegate.exactTokenCounter();
    }
}
