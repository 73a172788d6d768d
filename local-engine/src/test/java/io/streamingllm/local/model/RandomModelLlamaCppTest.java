package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.GenerationCase;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.Position;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.WriteRandomModels;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The random-weight models in every weight type and both architectures against llama.cpp's own output on
 * the very same files (fixtures from scripts/crosscheck-random-models.sh): this checks our reading of the
 * ggml block layouts, the RoPE layouts and the qwen2 biases against ggml itself.
 */
class RandomModelLlamaCppTest {
    /**
     * Logit tolerance per weight type. llama.cpp rounds the activations it multiplies with: to f16 for F16
     * weights, to bf16 for BF16, and to 8-bit blocks (Q8_0 / Q8_K) for the quantised types, and accumulates
     * attention in f16; this engine keeps them float. Random weights make the logits (magnitude 10-15 here)
     * sensitive to that, so the measured gaps are about 0.01 (F32, F16), 0.06 (BF16) and 0.2-0.4 (quantised
     * types); {@link LlamaCppRoundingTest} shows that rounding reproduces llama.cpp's logits. A misread block
     * layout (scales, nibble order, high bits) moves logits by whole units, far outside these bounds.
     */
    static double logitTolerance(GgmlType type) {
        return switch (type) {
            case F32, F16 -> 0.03;
            case BF16 -> 0.1;
            default -> 0.5;
        };
    }

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(WriteRandomModels.ARCHITECTURES).flatMap(a -> Stream.of(GgmlType.values()).map(t -> Arguments.of(a, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void matchesLlamaCppOnTheSameFile(String arch, GgmlType type) throws Exception {
        String name = WriteRandomModels.name(arch, type);
        Path file = dir.resolve(name + ".gguf");
        RandomModel.write(file, arch, type, WriteRandomModels.SEED);
        assertEquals(recordedSha256().get(name), WriteRandomModels.sha256(file), "the file llama.cpp ran");
        try (LoadedModel m = LoadedModel.open(file, 1)) {
            for (GenerationCase c : LlamaCppFixtures.generationCases("random/" + name)) {
                KvCache cache = KvCache.dense(m.config(), 64);
                int[] inputs = IntStream.concat(Arrays.stream(c.promptIds()), Arrays.stream(c.generated())).toArray();
                for (int i = 0; i < c.positions().size(); i++) {
                    float[] logits = m.transformer().forward(cache, inputs[i]);
                    Position p = c.positions().get(i);
                    assertEquals(inputs[i], p.input());
                    double[] probs = Sampler.softmax(logits);
                    for (LlamaCppFixtures.TopToken t : p.top()) {
                        String where = name + " " + c.name() + " position " + i + " token " + t.id();
                        assertEquals(t.logit(), logits[t.id()], logitTolerance(type), where);
                        assertEquals(t.prob(), probs[t.id()], logitTolerance(type) / 2, where); // softmax: dp <= max dlogit / 2
                    }
                    int top = p.top().get(0).id();
                    int ours = Sampler.argmax(logits);
                    if (ours != top) { // only a near tie may swap the most likely token
                        assertEquals(logits[ours], logits[top], 2 * logitTolerance(type), where(name, c, i));
                    }
                }
            }
        }
    }

    private static String where(String name, GenerationCase c, int i) {
        return name + " " + c.name() + " position " + i + " argmax";
    }

    private static Map<String, String> recordedSha256() throws Exception {
        try (InputStream in = RandomModelLlamaCppTest.class.getResourceAsStream("/llamacpp/random/sha256.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(l -> l.split(" "))
                    .collect(Collectors.toMap(a -> a[0], a -> a[1]));
        }
    }
}
