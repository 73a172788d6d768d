package io.streamingllm.core.engine;

/** Counts tokens of a text as a model would. */
public interface TokenCounter {
    int count(String text);

    /** True when counts are the model's own tokenizer's, false for estimates. */
    boolean exact();
}
