package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.Quant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The batch product (prefill) equals the single-vector product (decode) bit for bit, for the types with a batch
 * kernel of their own (Q8_0's lane-ordered float tiles) and the default: an odd number of rows (a last tile of 5,
 * a row paired with itself), an odd batch (a vector paired with itself), one and two threads, with outliers and a
 * zero block in the activations.
 */
class BatchedMatmulTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K"})
    void batchProductEqualsSingleProductsBitForBit(GgmlType type) {
        int rows = 37;
        int cols = 512;
        int batch = 5;
        Random r = new Random(3 + type.ordinal());
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * (1 + i % 7));
        }
        byte[] bytes = Quant.quantize(type, w);
        try (Arena arena = Arena.ofShared()) { // shared: the helper threads read the weights
            MemorySegment seg = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            FloatTensor t = FloatTensor.of(type, seg, w.length);
            QuantizedActivations[] xs = new QuantizedActivations[batch];
            for (int b = 0; b < batch; b++) {
                float[] x = new float[cols];
                for (int i = 0; i < cols; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                x[b * 7] = 60f * (b % 2 == 0 ? 1 : -1);
                if (b == 2) {
                    java.util.Arrays.fill(x, 64, 96, 0f);
                }
                xs[b] = new QuantizedActivations(cols).set(x, cols);
            }
            for (int threads = 1; threads <= 2; threads++) {
                try (MatMul mm = new MatMul(threads)) {
                    float[][] batched = new float[batch][rows];
                    mm.matmul(t, xs, batched, batch, rows, cols);
                    for (int b = 0; b < batch; b++) {
                        float[] single = new float[rows];
                        mm.matmul(t, xs[b], single, rows, cols);
                        assertArrayEquals(single, batched[b], 0f, type + " vector " + b + ", " + threads + " threads");
                    }
                }
            }
        }
    }
}
