package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamingllm.local.SharedModels;
import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.GenerationCase;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.Position;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * stories260K against llama.cpp's recorded output (fixtures from scripts/crosscheck-llamacpp.sh): greedy
 * continuations identical for 64 tokens; over the first 16 positions top-5 ids in the same order (up to
 * ties within the logit tolerance), probabilities and raw logits within llama.cpp's own error.
 */
class Stories260KLlamaCppTest {
    /**
     * llama.cpp's own probabilities are off from an exact float64 forward pass (numpy over
     * stories260K.bin) by up to 3.15e-3 on these prompts (dog-ball position 9, token 345: llama.cpp
     * 0.5706, float64 0.5674; also dog-ball 1, tom-sad 19 above 1e-3), while this engine agrees with
     * the float64 pass to about 1e-6 there. So 1e-3 holds for the README's once-upon prompt, and the
     * other prompts are held to llama.cpp's measured error.
     */
    static final double LLAMA_CPP_PROB_ERROR = 3.5e-3;
    static final int CHECKED_POSITIONS = 16;
    /** llama.cpp's logits differ from exact float64 by up to 1.2e-2 (models/README.md). */
    static final double LOGIT_TOLERANCE = 1.2e-2;

    @Test
    void everyPromptMatchesLlamaCpp() throws Exception {
        try (LoadedModel m = LoadedModel.open(SharedModels.stories260K(), 1)) {
            for (GenerationCase c : LlamaCppFixtures.generationCases("stories260K")) {
                KvCache cache = KvCache.dense(m.config(), 512);
                int[] inputs = IntStream.concat(Arrays.stream(c.promptIds()), Arrays.stream(c.generated())).toArray();
                int[] generated = new int[c.generated().length];
                for (int i = 0; i < inputs.length - 1; i++) {
                    float[] logits = m.transformer().forward(cache, inputs[i]);
                    if (i >= c.promptIds().length - 1) {
                        generated[i - c.promptIds().length + 1] = Sampler.argmax(logits);
                    }
                    if (i < CHECKED_POSITIONS) { // as issue 5 asks; later positions are checked through the greedy ids
                        Position p = c.positions().get(i);
                        assertEquals(inputs[i], p.input());
                        double[] probs = Sampler.softmax(logits);
                        int[] top5 = IntStream.range(0, logits.length).boxed()
                                .sorted(Comparator.comparingDouble((Integer t) -> -probs[t]).thenComparing(t -> t))
                                .limit(5).mapToInt(Integer::intValue).toArray();
                        for (int k = 0; k < top5.length; k++) {
                            int theirs = p.top().get(k).id();
                            // the same id, or a tie within the logit tolerance (both sides' rounding) swapped the order
                            if (top5[k] != theirs) {
                                assertEquals(logits[top5[k]], logits[theirs], 2 * LOGIT_TOLERANCE,
                                        c.name() + " position " + i + " top-" + (k + 1) + ": " + top5[k] + " vs llama.cpp " + theirs);
                            }
                        }
                        for (LlamaCppFixtures.TopToken t : p.top()) {
                            double tolerance = c.name().equals("once-upon") ? 1e-3 : LLAMA_CPP_PROB_ERROR;
                            assertEquals(t.prob(), probs[t.id()], tolerance, c.name() + " position " + i + " token " + t.id());
                            assertEquals(t.logit(), logits[t.id()], LOGIT_TOLERANCE, c.name() + " position " + i + " token " + t.id());
                        }
                    }
                }
                assertArrayEquals(c.generated(), generated, c.name());
            }
        }
    }
}
