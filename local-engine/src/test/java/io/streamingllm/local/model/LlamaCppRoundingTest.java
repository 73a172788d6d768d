package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.GenerationCase;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.TopToken;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.ReferenceModel;
import io.streamingllm.local.testing.WriteRandomModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Where llama.cpp's logits on quantised weights come from: a float64 reference that rounds exactly as
 * ggml's CPU backend does (activations converted to Q8_0 blocks for Q4_0 weights and to Q8_K blocks for the
 * K-quants before each matrix product; flash attention over the F16 KV cache with an f16 accumulator)
 * reproduces llama.cpp's recorded logits to 1e-3, where the exact reference (which this engine matches to
 * 2e-4, see {@link RandomModelTest}) is 0.05-0.12 away at the first position. So the 0.2-0.4 gaps {@link RandomModelLlamaCppTest}
 * allows are llama.cpp's rounding, not a misread weight.
 *
 * <p>The agreement holds from the first position until one rounding decision flips (a value within float32
 * noise of a rounding boundary in llama.cpp's float32 arithmetic); the flipped value then sits in the KV
 * cache and later positions drift by up to ~0.1. Every case matches for at least its first two positions
 * (the second already exercises the online softmax). Q8_0 weights are left out: llama.cpp's Q8_0 logits
 * are neither reproduced with nor without Q8_0 activations (0.08 resp. 0.04 apart at the first position), an
 * open question; F16 and BF16 are left out as their gaps (at most 0.06) need no explaining.
 */
class LlamaCppRoundingTest {
    static final double AGREE = 1e-3;
    static final int LEADING_POSITIONS = 2;

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of("llama", "qwen2").flatMap(a -> Stream.of(GgmlType.F32, GgmlType.Q4_0, GgmlType.Q4_K,
                GgmlType.Q5_K, GgmlType.Q6_K).map(t -> Arguments.of(a, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void ggmlRoundingReproducesLlamaCppLogits(String arch, GgmlType type) throws Exception {
        String name = WriteRandomModels.name(arch, type);
        RandomModel rm = RandomModel.write(dir.resolve(name + ".gguf"), arch, type, WriteRandomModels.SEED);
        double exactGap = 0;
        for (GenerationCase c : LlamaCppFixtures.generationCases("random/" + name)) {
            ReferenceModel exact = ReferenceModel.dense(rm);
            ReferenceModel rounded = ReferenceModel.llamaCppDense(rm, type);
            int[] inputs = IntStream.concat(Arrays.stream(c.promptIds()), Arrays.stream(c.generated())).toArray();
            for (int i = 0; i < LEADING_POSITIONS; i++) {
                double[] e = exact.step(inputs[i]);
                double[] r = rounded.step(inputs[i]);
                String where = name + " " + c.name() + " position " + i;
                double roundedGap = gap(r, c.positions().get(i).top());
                assertTrue(roundedGap <= AGREE, where + ": ggml-rounded reference off llama.cpp by " + roundedGap);
                exactGap = Math.max(exactGap, gap(e, c.positions().get(i).top()));
            }
        }
        if (type != GgmlType.F32) { // the activation rounding is what separates exact maths from llama.cpp
            assertTrue(exactGap >= 0.03, name + ": exact reference off llama.cpp by only " + exactGap);
        }
    }

    private static double gap(double[] logits, Iterable<TopToken> top) {
        double max = 0;
        for (TopToken t : top) {
            max = Math.max(max, Math.abs(logits[t.id()] - t.logit()));
        }
        return max;
    }
}
