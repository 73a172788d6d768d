package io.streamingllm.local.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.llamacpp.LlamaCppFixtures.GenerationCase;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.Position;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The committed llama.cpp generation fixtures are complete and consistent, so forward-pass checks can rely on them. */
class LlamaCppFixturesTest {
    /** models/README.md: llama.cpp's greedy continuation of BOS + "Once upon a time". */
    private static final int[] README_CONTINUATION = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
        396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
        266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438,
        310, 439, 419, 357, 336};

    private static final List<GenerationCase> CASES = LlamaCppFixtures.generationCases("stories260K");

    @Test
    void onceUponATimeMatchesTheModelReadme() {
        GenerationCase once = CASES.stream().filter(c -> c.name().equals("once-upon")).findFirst().orElseThrow();
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, once.promptIds());
        assertArrayEquals(README_CONTINUATION, once.generated());
        assertTrue(once.generatedText().startsWith(", there was a little girl named Lily."), once.generatedText());
        Position first = once.positions().get(3);
        assertEquals(378, first.top().get(0).id());
        assertEquals(0.9993, first.top().get(0).prob(), 1e-4);
    }

    @Test
    void everyPromptHas64GreedyIdsAndTop5ForTheFirstPositions() {
        assertTrue(CASES.size() >= 5, "prompts: " + CASES.size());
        for (GenerationCase c : CASES) {
            assertEquals(64, c.generated().length, c.name());
            int[] sequence = new int[c.promptIds().length + c.generated().length];
            System.arraycopy(c.promptIds(), 0, sequence, 0, c.promptIds().length);
            System.arraycopy(c.generated(), 0, sequence, c.promptIds().length, c.generated().length);
            assertEquals(Math.max(16, c.promptIds().length + 8), c.positions().size(), c.name());
            for (int i = 0; i < c.positions().size(); i++) {
                Position p = c.positions().get(i);
                assertEquals(i, p.position());
                assertEquals(sequence[i], p.input(), c.name() + " input at " + i);
                assertEquals(5, p.top().size());
                for (int k = 1; k < 5; k++) {
                    assertTrue(p.top().get(k - 1).prob() >= p.top().get(k).prob(), "sorted by probability");
                }
                assertEquals(p.maxLogit(), p.top().get(0).logit(), 0.0, "the most probable token has the max logit");
                if (i >= c.promptIds().length - 1) {
                    assertEquals(sequence[i + 1], p.top().get(0).id(), c.name() + ": greedy pick after " + i);
                }
            }
        }
    }
}
