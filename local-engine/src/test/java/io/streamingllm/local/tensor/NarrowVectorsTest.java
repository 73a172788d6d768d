package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.testing.ChildJvm;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.ReferenceModel;
import io.streamingllm.local.testing.Quant;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM whose vectors are 128 bits (NEON on Apple silicon and most Arm servers; {@code -XX:MaxVectorSize=16}
 * here) has no byte species for four float lanes. The kernels then take 256-bit species, which that JVM runs
 * without vector instructions: slow, but the products are right (before, loading any tensor failed with
 * {@code ExceptionInInitializerError}, and attention mixed the two species). Run in a child JVM, as the vector
 * size is fixed per JVM.
 */
class NarrowVectorsTest {
    static final int ROWS = 5;
    static final int COLS = 512;
    static final int BATCH = 3;

    @TempDir
    Path dir;

    @Test
    void productsAndAForwardPassAreRightWith128BitVectors() throws IOException, InterruptedException {
        String output = ChildJvm.run(dir, List.of("-XX:MaxVectorSize=16"), Child.class,
                List.of(dir.resolve("llama.gguf").toString()), 120);
        assertTrue(output.contains("native float lanes 4, kernel float lanes 8"), output);
        assertTrue(output.contains("all products right"), output);
        assertTrue(output.contains("forward pass right"), output);
    }

    /**
     * Every type's single and batch products against float64 over the dequantised operands, then a forward pass
     * ({@link #forwardPass}) of a model written to {@code args[0]}.
     */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            System.out.printf("native float lanes %d, kernel float lanes %d%n", FloatVector.SPECIES_PREFERRED.length(),
                    FloatTensor.F_SPECIES.length());
            Random r = new Random(5);
            try (Arena arena = Arena.ofConfined(); MatMul mm = new MatMul(1)) {
                for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K,
                        GgmlType.Q6_K)) {
                    float[] w = new float[ROWS * COLS];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) r.nextGaussian();
                    }
                    byte[] bytes = Quant.quantize(type, w);
                    float[] deq = Quant.dequantize(type, bytes, w.length);
                    MemorySegment seg = arena.allocate(bytes.length);
                    MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
                    FloatTensor t = FloatTensor.of(type, seg, w.length);
                    QuantizedActivations[] xs = new QuantizedActivations[BATCH];
                    float[][] batchOut = new float[BATCH][ROWS];
                    for (int b = 0; b < BATCH; b++) {
                        float[] x = new float[COLS];
                        for (int i = 0; i < COLS; i++) {
                            x[i] = (float) r.nextGaussian();
                        }
                        xs[b] = new QuantizedActivations(COLS).set(x, COLS);
                    }
                    mm.matmul(t, xs, batchOut, BATCH, ROWS, COLS);
                    for (int b = 0; b < BATCH; b++) {
                        float[] out = new float[ROWS];
                        mm.matmul(t, xs[b], out, ROWS, COLS);
                        for (int row = 0; row < ROWS; row++) {
                            double expected = 0;
                            double magnitude = 0;
                            for (int c = 0; c < COLS; c++) {
                                double term = deq[row * COLS + c] * xs[b].dequantized(t.activationFormat(), c);
                                expected += term;
                                magnitude += Math.abs(term);
                            }
                            if (Math.abs(out[row] - expected) > 1e-5 * magnitude || batchOut[b][row] != out[row]) {
                                System.out.printf("%s vector %d row %d: %s, batch %s, expected %s%n", type, b, row,
                                        out[row], batchOut[b][row], expected);
                                System.exit(1);
                            }
                        }
                    }
                }
            }
            System.out.println("all products right");
            forwardPass(Path.of(args[0]));
        }

        /** Attention and the norms take the same species: a random llama's logits against the float64 reference. */
        static void forwardPass(Path file) throws IOException {
            ReferenceModel ref = ReferenceModel.dense(RandomModel.write(file, "llama", GgmlType.Q8_0, 7));
            try (LoadedModel m = LoadedModel.open(file, 1, MatMul.Kernels.FLOAT)) {
                KvCache cache = KvCache.dense(m.config(), 16);
                for (int token : new int[] {1, 17, 300, 42}) {
                    double[] expected = ref.step(token);
                    float[] logits = m.transformer().forward(cache, token);
                    double scale = 1;
                    for (double e : expected) {
                        scale = Math.max(scale, Math.abs(e));
                    }
                    for (int i = 0; i < expected.length; i++) {
                        if (Math.abs(expected[i] - logits[i]) > 2e-4 * scale) {
                            System.out.printf("token %d logit %d: %s, expected %s%n", token, i, logits[i], expected[i]);
                            System.exit(1);
                        }
                    }
                }
            }
            System.out.println("forward pass right");
        }
    }
}
