package io.streamingllm.local;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.template.ChatTemplate;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file opened for chat: the runnable model, the tokenizer and chat template its metadata
 * describes, and how long opening all of it took.
 */
record ChatModel(LoadedModel model, Tokenizer tokenizer, ChatTemplate template, long loadNanos)
        implements AutoCloseable {

    /**
     * Opens {@code file}; {@link EngineException} MODEL_NOT_FOUND when it cannot be read or is not a
     * model this engine runs (the message says why).
     */
    static ChatModel open(Path file, int threads) {
        long start = System.nanoTime();
        LoadedModel model;
        try {
            model = LoadedModel.open(file, threads);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "cannot read model file " + file + ": " + e.getMessage(), e);
        } catch (GgufException e) {
            throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, e.getMessage(), e);
        }
        try {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.metadata());
            ChatTemplate template = ChatTemplate.fromGguf(model.metadata(), tokenizer);
            return new ChatModel(model, tokenizer, template, System.nanoTime() - start);
        } catch (RuntimeException e) {
            model.close();
            throw notAModel(file, e);
        }
    }

    static EngineException notAModel(Path file, RuntimeException e) {
        return new EngineException(EngineException.Kind.MODEL_NOT_FOUND, file + ": " + e.getMessage(), e);
    }

    ModelConfig config() {
        return model.config();
    }

    /** Unmaps the file: only once no forward pass can run any more. */
    @Override
    public void close() {
        model.close();
    }
}
