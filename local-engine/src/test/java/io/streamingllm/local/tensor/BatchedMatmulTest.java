package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.Quant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The batch product (prefill) equals the single-vector product (decode) bit for bit, for every quantised type
 * (each has lane-ordered float tiles of its own, {@link LaneTiles}) and F32 (two rows times two vectors): an odd number of rows (a last tile of 5,
 * its last row repeated in a group of four), an odd batch (a vector paired with itself), one and two threads, with outliers and a
 * zero block in the activations; and for Q6_K at the largest lane sums its format allows (near 2^24, where float
 * sums stop being exact).
 */
class BatchedMatmulTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void batchProductEqualsSingleProductsBitForBit(GgmlType type) {
        int rows = 37;
        int cols = 512;
        int batch = 5;
        Random r = new Random(3 + type.ordinal());
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * (1 + i % 7));
        }
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
        assertBatchEqualsSingles(type, Quant.quantize(type, w), rows, cols, xs);
    }

    /** F32 rows whose length is not a multiple of the vector length: the products past the last vector too. */
    @Test
    void f32RowsWithATailEqualSingleProducts() {
        int rows = 5;
        int cols = 100;
        Random r = new Random(5);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        QuantizedActivations[] xs = new QuantizedActivations[3];
        for (int b = 0; b < xs.length; b++) {
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = (float) r.nextGaussian();
            }
            xs[b] = new QuantizedActivations(cols).set(x, cols);
        }
        assertBatchEqualsSingles(GgmlType.F32, Quant.quantize(GgmlType.F32, w), rows, cols, xs);
    }

    /**
     * Q6_K's largest lane sums: every quant -32 or -31 and every scale -128 or -127, activations whose quants are
     * all ±127 or ±126 of one sign, so each lane sums 32 products of up to 4096 * 127 to about 16.5M of 2^24 =
     * 16.8M, with their low bits set. The tiles' float sums are exact only below 2^24.
     */
    @Test
    void q6KLargestLaneSumsStayExact() {
        int rows = 6;
        int cols = 512;
        int batch = 3;
        Random r = new Random(11);
        int superBlocks = rows * cols / 256;
        byte[] bytes = new byte[superBlocks * 210];
        for (int s = 0; s < superBlocks; s++) {
            int at = s * 210;
            for (int i = 0; i < 192; i++) { // ql and qh: every 6-bit quant 0 or 1, i.e. -32 or -31
                bytes[at + i] = i < 128 ? (byte) (r.nextInt(4) == 0 ? 0x11 : 0) : 0;
            }
            for (int i = 192; i < 208; i++) {
                bytes[at + i] = (byte) (r.nextBoolean() ? -128 : -127);
            }
            short d = Float.floatToFloat16(1f / (1 + s % 3));
            bytes[at + 208] = (byte) d;
            bytes[at + 209] = (byte) (d >> 8);
        }
        QuantizedActivations[] xs = new QuantizedActivations[batch];
        for (int b = 0; b < batch; b++) {
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = -(i % 256 == 0 ? 127f : r.nextInt(3) == 0 ? 126f : 127f); // quants -127 and -126
            }
            xs[b] = new QuantizedActivations(cols).set(x, cols);
        }
        assertBatchEqualsSingles(GgmlType.Q6_K, bytes, rows, cols, xs);
        // the data is at the limit: row 0's first super-block (d = 1) against vector 0, 256 products, is on
        // average over 16M per 32 (one int lane's share with 256-bit vectors)
        float[] w = Quant.dequantize(GgmlType.Q6_K, bytes, 256);
        long sum = 0;
        for (int i = 0; i < 256; i++) {
            sum += (long) w[i] * xs[0].q8K[i];
        }
        assertTrue(Math.abs(sum) / 8 > 16_000_000, "lane sums of " + sum / 8);
    }

    /** Checks the batch product against the single products, at 1 and 2 threads. */
    private static void assertBatchEqualsSingles(GgmlType type, byte[] bytes, int rows, int cols, QuantizedActivations[] xs) {
        int batch = xs.length;
        try (Arena arena = Arena.ofShared()) { // shared: the helper threads read the weights
            MemorySegment seg = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            FloatTensor t = FloatTensor.of(type, seg, (long) rows * cols);
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
