package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** Each weight type's dot product on the encoded blocks against float64 over the dequantised values. */
class QuantDotTest {
    static final int ROWS = 5;
    static final int COLS = 768;

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotOnBlocksEqualsDotOfDequantisedValues(GgmlType type) {
        Random r = new Random(42 + type.ordinal());
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * (1 + i % 7)); // uneven magnitudes across blocks
        }
        byte[] bytes = Quant.quantize(type, w);
        float[] deq = Quant.dequantize(type, bytes, w.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(bytes.length + 1).asSlice(1); // unaligned on purpose
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            FloatTensor t = FloatTensor.of(type, seg, w.length);
            assertEquals(type, t.type());
            for (int i = 0; i < w.length; i++) {
                assertEquals(deq[i], t.getFloat(i), 0f, "value " + i);
            }
            float[] x = new float[COLS];
            for (int i = 0; i < COLS; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] rowsOut1 = new float[ROWS];
            float[] rowsOut2 = new float[ROWS];
            for (int row = 0; row < ROWS; row++) {
                double expected = 0;
                double magnitude = 0;
                for (int c = 0; c < COLS; c++) {
                    expected += (double) deq[row * COLS + c] * x[c];
                    magnitude += Math.abs((double) deq[row * COLS + c] * x[c]);
                }
                float got = t.dot((long) row * COLS, x, 0, COLS);
                assertEquals(expected, got, 1e-5 * magnitude, type + " row " + row);
            }
            try (MatMul one = new MatMul(1); MatMul two = new MatMul(2)) {
                one.matmul(t, x, rowsOut1, ROWS, COLS);
                two.matmul(t, x, rowsOut2, ROWS, COLS);
            }
            for (int row = 0; row < ROWS; row++) {
                assertEquals(t.dot((long) row * COLS, x, 0, COLS), rowsOut1[row], 0f);
                assertEquals(rowsOut1[row], rowsOut2[row], 0f);
            }
        }
        // the quantiser round trip is faithful enough to make the random test models meaningful
        double err = 0, norm = 0;
        for (int i = 0; i < w.length; i++) {
            err += Math.abs(w[i] - deq[i]);
            norm += Math.abs(w[i]);
        }
        assertTrue(err / norm < 0.12, type + " relative quantisation error " + err / norm);
    }

    @Test
    void q4KScalesAndMinsDecodedAllAtOnceEqualThePerSubBlockDecode() {
        Random r = new Random(3);
        MemorySegment bytes = MemorySegment.ofArray(new byte[12]);
        for (int k = 0; k < 10_000; k++) {
            long lo = r.nextLong();
            int hi = r.nextInt();
            bytes.set(FloatTensor.I64_LE, 0, lo);
            bytes.set(FloatTensor.I32_LE, 8, hi);
            long scales = Q4_KTensor.scales(lo, hi);
            long mins = Q4_KTensor.mins(lo, hi);
            for (int j = 0; j < 8; j++) {
                int sm = Q4_KTensor.scaleMin(bytes, 0, j); // the byte-by-byte decode getFloat uses
                assertEquals(sm & 0xFF, (int) (scales >>> (8 * j)) & 0xFF, "scale " + j);
                assertEquals(sm >>> 8, (int) (mins >>> (8 * j)) & 0xFF, "min " + j);
            }
        }
    }
}
