package io.streamingllm.core.session;

import io.streamingllm.core.engine.TokenCounter;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenEstimatorTest {
    private static final String TEXT = "x".repeat(1200);

    @Test
    void startsAtFourCharsPerTokenAndLearnsFromReportedPromptCounts() {
        TokenEstimator estimator = new TokenEstimator(null);
        assertFalse(estimator.exact());
        assertEquals(300, estimator.count(TEXT));
        // Ollama counted 600 tokens for 1,200 characters: this model's text is denser than the default guess
        for (int i = 0; i < 20; i++) {
            estimator.calibrate(1200, 600);
        }
        assertEquals(2.0, estimator.charsPerToken(), 0.01);
        assertEquals(600, estimator.count(TEXT), 5);
    }

    @Test
    void ignoresImplausibleReportsSuchAsPromptCacheHits() {
        TokenEstimator estimator = new TokenEstimator(null);
        estimator.calibrate(100_000, 12);   // Ollama evaluated only the uncached suffix
        estimator.calibrate(1000, 0);
        estimator.calibrate(10, 100);
        assertEquals(TokenEstimator.DEFAULT_CHARS_PER_TOKEN, estimator.charsPerToken());
    }

    @Test
    void anExactCounterWinsAndIsNeverRecalibrated() {
        TokenCounter words = new TokenCounter() {
            @Override
            public int count(String text) {
                return text.split(" ").length;
            }

            @Override
            public boolean exact() {
                return true;
            }
        };
        TokenEstimator estimator = new TokenEstimator(words);
        assertTrue(estimator.exact());
        estimator.calibrate(1200, 600);
        assertEquals(3, estimator.count("one two three"));
        assertEquals(0, estimator.count(""));
    }
}
