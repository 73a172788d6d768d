package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.GgmlRounding;
import io.streamingllm.local.testing.Quant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The integer kernels: each quantised type's product with 8-bit activation blocks against float64 over the
 * dequantised weights and the dequantised activations (the same numbers, so only float rounding may differ),
 * the activation blocks against ggml's rounding, and the integer product against the float reference within
 * the activation rounding error.
 */
class IntegerDotTest {
    static final int ROWS = 7; // odd: the last row of a pair range is paired with itself
    static final int COLS = 768;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void integerProductEqualsTheProductOfTheDequantisedValues(GgmlType type) {
        Random r = new Random(11 + type.ordinal());
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * (1 + i % 5));
        }
        byte[] bytes = Quant.quantize(type, w);
        float[] deq = Quant.dequantize(type, bytes, w.length);
        try (Arena arena = Arena.ofConfined(); MatMul one = new MatMul(1); MatMul two = new MatMul(2);
             MatMul reference = new MatMul(1, MatMul.Kernels.FLOAT)) {
            MemorySegment seg = arena.allocate(bytes.length + 3).asSlice(3); // unaligned on purpose
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            FloatTensor t = FloatTensor.of(type, seg, w.length);
            for (int trial = 0; trial < 4; trial++) {
                float[] x = activations(r, trial);
                QuantizedActivations xq = new QuantizedActivations(COLS).set(x, COLS);
                ActivationFormat format = t.activationFormat();
                double[] xd = GgmlRounding.activations(type, toDouble(x));
                for (int i = 0; i < COLS; i++) {
                    assertEquals(xd[i], xq.dequantized(format, i), Math.abs(xd[i]) * 1e-6, "activation " + i + " as " + format);
                }
                float[] out1 = new float[ROWS];
                float[] out2 = new float[ROWS];
                float[] outF = new float[ROWS];
                one.matmul(t, xq, out1, ROWS, COLS);
                two.matmul(t, xq, out2, ROWS, COLS);
                reference.matmul(t, xq, outF, ROWS, COLS);
                for (int row = 0; row < ROWS; row++) {
                    double expected = 0;
                    double magnitude = 0;
                    double exact = 0;
                    double roundingBound = 0; // each activation is at most half a step of its block's scale off
                    for (int c = 0; c < COLS; c++) {
                        double wc = deq[row * COLS + c];
                        expected += wc * xq.dequantized(format, c);
                        magnitude += Math.abs(wc * xq.dequantized(format, c));
                        exact += wc * x[c];
                        roundingBound += Math.abs(wc) * Math.abs(x[c] - xq.dequantized(format, c));
                        // Q8_0 stores its scale as f16 but rounds with the float one: up to 127 * 2^-11 steps more
                        double slack = format == ActivationFormat.Q8_0 ? 0.5 + 127 / 2048.0 : 0.5001;
                        assertTrue(Math.abs(x[c] - xq.dequantized(format, c)) <= stepOf(xq, format, c) * slack + 1e-30,
                                "activation " + c + " off by more than its rounding");
                    }
                    String where = type + " trial " + trial + " row " + row;
                    assertEquals(expected, out1[row], 1e-5 * magnitude + 1e-30, where);
                    assertEquals(out1[row], out2[row], 0f, where + ": 2 threads");
                    assertEquals(exact, outF[row], 1e-5 * magnitude + 1e-30, where + ": float reference");
                    assertEquals(outF[row], out1[row], roundingBound + 2e-5 * magnitude + 1e-30, where + ": integer vs float");
                }
            }
        }
    }

    @Test
    void kQuantActivationsMapTheValueOfLargestMagnitudeToMinus127AndSumEachSubBlock() {
        float[] x = new float[256];
        x[0] = -2f; // ggml's Q8_K scale is max / -127, max being the value of largest magnitude
        x[1] = 2f;
        x[2] = 0.5f;
        x[40] = 1f;
        QuantizedActivations q = new QuantizedActivations(256).set(x, 256);
        q.prepare(ActivationFormat.Q8_K);
        assertEquals(-127, q.q8K[0]);
        assertEquals(127, q.q8K[1]);
        assertEquals((short) Math.rint(0.5f * 63.5f), q.q8K[2]);
        assertEquals(2f / 127, q.d8K[0], 1e-7);
        assertEquals(q.q8K[0] + q.q8K[1] + q.q8K[2], q.sums8K[0]);
        assertEquals(q.q8K[40], q.sums8K[1]);
        x[0] = 2f;
        x[1] = -2f;
        q.set(x, 256).prepare(ActivationFormat.Q8_K);
        assertEquals(-127, q.q8K[0]);
        assertEquals(127, q.q8K[1]);
        assertEquals(-2f / 127, q.d8K[0], 1e-7);
    }

    private static double stepOf(QuantizedActivations q, ActivationFormat format, int i) {
        return Math.abs(format == ActivationFormat.Q8_0 ? q.d80[i / 32] : q.d8K[i / 256]);
    }

    @Test
    void zeroVectorsQuantiseToZeroAndSetChecksTheLength() {
        QuantizedActivations q = new QuantizedActivations(256).set(new float[256], 256);
        assertEquals(0f, q.dequantized(ActivationFormat.Q8_0, 5));
        assertEquals(0f, q.dequantized(ActivationFormat.Q8_K, 5));
        assertThrows(IllegalArgumentException.class, () -> q.set(new float[512], 512));
        assertThrows(IllegalStateException.class, () -> q.set(new float[40], 40).prepare(ActivationFormat.Q8_0));
    }

    @Test
    void setMakesTheBlocksAgainForTheNewValues() {
        float[] x = new float[256];
        QuantizedActivations q = new QuantizedActivations(256).set(x, 256);
        assertEquals(0f, q.dequantized(ActivationFormat.Q8_0, 3));
        x[3] = 1f;
        q.set(x, 256);
        assertEquals(1f, q.dequantized(ActivationFormat.Q8_0, 3), 1e-3);
        assertEquals(1f, q.dequantized(ActivationFormat.Q8_K, 3), 1e-6);
    }

    /** Gaussian activations, then outliers, a zero block, and a vector whose largest value is negative. */
    private static float[] activations(Random r, int trial) {
        float[] x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) r.nextGaussian();
        }
        switch (trial) {
            case 1 -> {
                x[5] = 40f;
                x[300] = -55f;
            }
            case 2 -> Arrays.fill(x, 256, 512, 0f);
            case 3 -> x[700] = -1e4f;
            default -> {
            }
        }
        return x;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
