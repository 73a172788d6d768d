package io.streamingllm.local.model;

import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.tensor.MatMul;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** A GGUF file opened as a runnable model: config, weights over the mapping, a forward pass. */
public final class LoadedModel implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelConfig config;
    private final MatMul matMul;
    private final Transformer transformer;

    private LoadedModel(GgufFile gguf, ModelConfig config, MatMul matMul, Transformer transformer) {
        this.gguf = gguf;
        this.config = config;
        this.matMul = matMul;
        this.transformer = transformer;
    }

    public static LoadedModel open(Path path, int threads) throws IOException {
        return open(path, threads, MatMul.Kernels.INTEGER);
    }

    /** Opens with the given kernels ({@link MatMul.Kernels#FLOAT}: the float reference arithmetic). */
    public static LoadedModel open(Path path, int threads, MatMul.Kernels kernels) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = ModelConfig.fromGguf(gguf);
            Weights weights = Weights.fromGguf(gguf, config);
            MatMul mm = new MatMul(threads, kernels);
            return new LoadedModel(gguf, config, mm, new Transformer(config, weights, mm));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Transformer transformer() {
        return transformer;
    }

    public Map<String, Object> metadata() {
        return gguf.metadata();
    }

    @Override
    public void close() {
        matMul.close();
        gguf.close();
    }
}
