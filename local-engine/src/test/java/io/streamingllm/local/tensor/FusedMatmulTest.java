package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.Quant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Products that share an activation vector, run as one parallel range, equal the products run one by one
 * bit for bit: mixed weight types (so both activation forms and the float path), odd row counts, both kernels,
 * one and two threads, matrices large enough to be split.
 */
class FusedMatmulTest {
    @Test
    void fusedProductsEqualSeparateProductsBitForBit() {
        int cols = 512;
        GgmlType[] types = {GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.F32, GgmlType.Q4_0, GgmlType.Q6_K};
        int[] rows = {301, 64, 33, 130, 97};
        Random r = new Random(5);
        try (Arena arena = Arena.ofShared()) { // shared: the helper threads read the weights
            FloatTensor[] ws = new FloatTensor[types.length];
            for (int m = 0; m < types.length; m++) {
                float[] w = new float[rows[m] * cols];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) r.nextGaussian();
                }
                byte[] bytes = Quant.quantize(types[m], w);
                MemorySegment seg = arena.allocate(bytes.length);
                MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
                ws[m] = FloatTensor.of(types[m], seg, w.length);
            }
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (MatMul.Kernels kernels : MatMul.Kernels.values()) {
                for (int threads = 1; threads <= 2; threads++) {
                    try (MatMul mm = new MatMul(threads, kernels)) {
                        float[][] fused = new float[types.length][];
                        for (int m = 0; m < types.length; m++) {
                            fused[m] = new float[rows[m]];
                        }
                        QuantizedActivations xq = new QuantizedActivations(cols).set(x, cols);
                        mm.matmul(ws, xq, fused, cols);
                        for (int m = 0; m < types.length; m++) {
                            float[] one = new float[rows[m]];
                            mm.matmul(ws[m], new QuantizedActivations(cols).set(x, cols), one, rows[m], cols);
                            assertArrayEquals(one, fused[m], 0f, types[m] + ", " + kernels + ", " + threads + " threads");
                        }
                    }
                }
            }
        }
    }
}
