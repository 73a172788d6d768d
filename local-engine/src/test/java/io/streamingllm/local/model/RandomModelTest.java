package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.ReferenceModel;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random-weight llama and qwen2 GGUFs in every weight type: the engine's logits against a float64
 * reference forward pass over the same (dequantised) weights, token by token and batched, 1 and 2 threads.
 */
class RandomModelTest {
    static final int[] TOKENS = {1, 17, 300, 42, 42, 5, 259, 2, 77, 123};

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of("llama", "qwen2").flatMap(a -> Stream.of(GgmlType.values()).map(t -> Arguments.of(a, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void logitsMatchTheReference(String arch, GgmlType type) throws Exception {
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        RandomModel rm = RandomModel.write(file, arch, type, 7);
        ReferenceModel ref = ReferenceModel.dense(rm);
        float[][] stepped = new float[TOKENS.length][];
        try (LoadedModel m = LoadedModel.open(file, 1)) {
            assertEquals(arch, m.config().architecture());
            KvCache cache = KvCache.dense(m.config(), 64);
            for (int i = 0; i < TOKENS.length; i++) {
                stepped[i] = m.transformer().forward(cache, TOKENS[i]).clone();
                assertClose(ref.step(TOKENS[i]), stepped[i], arch + " " + type + " position " + i);
            }
        }
        try (LoadedModel m = LoadedModel.open(file, 2)) {
            KvCache cache = KvCache.dense(m.config(), 64);
            float[] batched = m.transformer().prefill(cache, TOKENS, true);
            assertArrayEquals(stepped[TOKENS.length - 1], batched, "batched prefill with 2 threads = token by token");
            assertEquals(TOKENS.length, cache.length());
        }
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-4 * Math.max(1, scale), what + " logit " + i);
        }
    }
}
