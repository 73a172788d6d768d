package io.streamingllm.core.engine;

import java.util.List;

/**
 * Embedding vectors for a list of inputs, in input order.
 *
 * @param model        the model that made them
 * @param vectors      one vector per input
 * @param promptTokens input tokens the upstream counted (0 when it did not say)
 */
public record Embeddings(String model, List<float[]> vectors, int promptTokens) {
    public Embeddings {
        vectors = List.copyOf(vectors);
    }
}
