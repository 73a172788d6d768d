package io.streamingllm.core.session;

import io.streamingllm.core.engine.TokenCounter;

/**
 * Counts tokens for the window: the engine's own tokenizer when it has one, else a chars-per-token
 * estimate that starts at 4 and is calibrated with the prompt token counts the engine reports
 * (Ollama's {@code prompt_eval_count}). Thread-safe: the estimate is one volatile value; two calibrations
 * racing lose one sample, which only slows the learning.
 */
final class TokenEstimator implements TokenCounter {
    static final double DEFAULT_CHARS_PER_TOKEN = 4.0;
    private static final double MIN_CHARS_PER_TOKEN = 1.5;
    private static final double MAX_CHARS_PER_TOKEN = 8.0;
    private static final double WEIGHT_OF_NEW_SAMPLE = 0.3;

    private final TokenCounter exact;
    private volatile double charsPerToken = DEFAULT_CHARS_PER_TOKEN;

    TokenEstimator(TokenCounter exact) {
        this.exact = exact != null && exact.exact() ? exact : null;
    }

    @Override
    public int count(String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        if (exact != null) {
            return exact.count(text);
        }
        return (int) Math.ceil(text.length() / charsPerToken);
    }

    @Override
    public boolean exact() {
        return exact != null;
    }

    /**
     * The estimate as it stands now, to count with through one computation (null with the engine's tokenizer):
     * every count a function of the length alone, so a caller may sum lengths rather than build the text.
     */
    ByLength byLength() {
        return exact != null ? null : new ByLength(charsPerToken);
    }

    /** Counts as {@link #count} does with a fixed chars-per-token estimate. */
    record ByLength(double charsPerToken) implements TokenCounter {
        @Override
        public int count(String text) {
            return text == null ? 0 : count(text.length());
        }

        int count(long length) {
            return length == 0 ? 0 : (int) Math.ceil(length / charsPerToken);
        }

        @Override
        public boolean exact() {
            return false;
        }
    }

    double charsPerToken() {
        return charsPerToken;
    }

    /**
     * Learns from a prompt of {@code promptChars} characters that the engine counted as
     * {@code promptTokens} tokens. Implausible ratios are ignored: Ollama reports only the tokens it
     * evaluated, so a prompt-cache hit looks like a very long "token".
     */
    void calibrate(long promptChars, int promptTokens) {
        if (exact != null || promptTokens <= 0 || promptChars <= 0) {
            return;
        }
        double observed = (double) promptChars / promptTokens;
        if (observed < MIN_CHARS_PER_TOKEN || observed > MAX_CHARS_PER_TOKEN) {
            return;
        }
        charsPerToken = charsPerToken * (1 - WEIGHT_OF_NEW_SAMPLE) + observed * WEIGHT_OF_NEW_SAMPLE;
    }
}
