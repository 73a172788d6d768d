package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.tensor.MatMul;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.ReferenceModel;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random-weight llama, qwen2, qwen3 and gemma3 GGUFs in every weight type: the engine's logits against a float64
 * reference forward pass over the same (dequantised) weights, token by token and batched, 1 and 2 threads.
 * The float kernels (the reference arithmetic) match the exact reference; the integer kernels match the
 * reference that rounds each product's activations to the same 8-bit blocks. With either kernels a batched
 * prefill computes every product as token-by-token decoding does, bit for bit.
 */
class RandomModelTest {
    static final int[] TOKENS = {1, 17, 300, 42, 42, 5, 259, 2, 77, 123};

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of("llama", "qwen2", "qwen3", "gemma3").flatMap(a -> Stream.of(GgmlType.values()).map(t -> Arguments.of(a, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void floatKernelsMatchTheExactReference(String arch, GgmlType type) throws Exception {
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        RandomModel rm = RandomModel.write(file, arch, type, 7);
        ReferenceModel ref = ReferenceModel.dense(rm);
        float[][] stepped = new float[TOKENS.length][];
        try (LoadedModel m = LoadedModel.open(file, 1, MatMul.Kernels.FLOAT)) {
            assertEquals(arch, m.config().architecture());
            KvCache cache = KvCache.dense(m.config(), 64);
            for (int i = 0; i < TOKENS.length; i++) {
                stepped[i] = m.transformer().forward(cache, TOKENS[i]).clone();
                assertClose(ref.step(TOKENS[i]), stepped[i], 2e-4, arch + " " + type + " position " + i);
            }
        }
        try (LoadedModel m = LoadedModel.open(file, 2, MatMul.Kernels.FLOAT)) {
            KvCache cache = KvCache.dense(m.config(), 64);
            float[] batched = m.transformer().prefill(cache, TOKENS, true);
            assertArrayEquals(stepped[TOKENS.length - 1], batched, "batched prefill with 2 threads = token by token");
            assertEquals(TOKENS.length, cache.length());
        }
    }

    /**
     * The integer kernels against the float64 reference that rounds each product's activations to the same
     * 8-bit blocks (and keeps the engine's float32 norms and sums). An activation within float32 noise of a
     * rounding boundary (x.5 steps) may round the other way in the two computations; that one step moves the
     * logits by well under 2% of their scale (measured up to 0.7%), and its key and value stay in the cache,
     * so later positions keep a small gap. A misread block (wrong scale, nibble, bit) moves them by 20-50%.
     * So: every position of a sequence within 2%, and the first token of a fresh cache within 2e-4 for at
     * least 8 of the 10 tokens.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void integerKernelsMatchTheReferenceWithRoundedActivations(String arch, GgmlType type) throws Exception {
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        RandomModel rm = RandomModel.write(file, arch, type, 7);
        ReferenceModel ref = ReferenceModel.quantisedActivationsDense(rm, type);
        float[][] stepped = new float[TOKENS.length][];
        for (int threads = 1; threads <= 2; threads++) {
            try (LoadedModel m = LoadedModel.open(file, threads, MatMul.Kernels.INTEGER)) {
                KvCache cache = KvCache.dense(m.config(), 64);
                for (int i = 0; i < TOKENS.length; i++) {
                    float[] logits = m.transformer().forward(cache, TOKENS[i]);
                    if (threads == 1) {
                        stepped[i] = logits.clone();
                        assertClose(ref.step(TOKENS[i]), logits, 2e-2, arch + " " + type + " position " + i);
                    } else {
                        assertArrayEquals(stepped[i], logits, "2 threads = 1 thread, position " + i);
                    }
                }
            }
        }
        try (LoadedModel m = LoadedModel.open(file, 2, MatMul.Kernels.INTEGER)) {
            float[] batched = m.transformer().prefill(KvCache.dense(m.config(), 64), TOKENS, true);
            assertArrayEquals(stepped[TOKENS.length - 1], batched, "batched prefill with 2 threads = token by token");
        }
        int exact = 0;
        try (LoadedModel m = LoadedModel.open(file, 1, MatMul.Kernels.INTEGER)) {
            for (int token : TOKENS) {
                double[] expected = ReferenceModel.quantisedActivationsDense(rm, type).step(token);
                exact += relativeGap(expected, m.transformer().forward(KvCache.dense(m.config(), 4), token)) <= 2e-4 ? 1 : 0;
            }
        }
        assertTrue(exact >= TOKENS.length - 2, arch + " " + type + ": the first token matches the reference to 2e-4 for only "
                + exact + " of " + TOKENS.length + " tokens");
    }

    private static double relativeGap(double[] expected, float[] actual) {
        double scale = 1;
        double gap = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            gap = Math.max(gap, Math.abs(expected[i] - actual[i]));
        }
        return gap / scale;
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        assertClose(expected, actual, 2e-4, what);
    }

    static void assertClose(double[] expected, float[] actual, double relative, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relative * Math.max(1, scale), what + " logit " + i);
        }
    }
}
