package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vectorised F16 and BF16 kernels: the lane conversion equals the scalar one for every one of the
 * 65536 bit patterns, and dots over random bit patterns (subnormals, zeros of both signs, the largest
 * finite values) equal float64 sums of the exactly converted values.
 */
class HalfPrecisionDotTest {
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void f16LanesConvertEveryBitPatternAsFloatFloat16ToFloat() {
        everyPattern(F16Tensor::toFloat, bits -> Float.floatToRawIntBits(Float.float16ToFloat((short) bits)));
    }

    @Test
    void bf16LanesConvertEveryBitPatternToTheTopHalfOfAFloat() {
        everyPattern(BF16Tensor::toFloat, bits -> bits << 16);
    }

    private static void everyPattern(Function<ShortVector, FloatVector> convert, IntUnaryOperator scalarBits) {
        int lanes = FloatTensor.S_SPECIES.length();
        short[] h = new short[lanes];
        float[] out = new float[lanes];
        for (int round = 0; round < 20; round++) { // repeated until the JIT compiles (intrinsifies) the lanes
            for (int base = 0; base < 1 << 16; base += lanes) {
                for (int i = 0; i < lanes; i++) {
                    h[i] = (short) (base + i);
                }
                convert.apply(ShortVector.fromArray(FloatTensor.S_SPECIES, h, 0)).intoArray(out, 0);
                for (int i = 0; i < lanes; i++) {
                    int bits = h[i] & 0xFFFF;
                    float expected = Float.intBitsToFloat(scalarBits.applyAsInt(bits));
                    if (Float.isNaN(expected)) {
                        assertTrue(Float.isNaN(out[i]), () -> String.format("0x%04x: NaN expected", bits));
                    } else {
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i]),
                                () -> String.format("0x%04x: %s expected", bits, expected));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void dotsEqualFloat64SumsOverRandomBitPatterns(GgmlType type) {
        int rows = 6, cols = 773; // not a multiple of the lanes: the scalar tail runs too
        Random r = new Random(7 + type.ordinal());
        short[] w = new short[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = switch (i % 97) { // edge values sprinkled over the random patterns
                case 0 -> (short) 0x8000; // -0
                case 1 -> (short) 0x0001; // smallest subnormal
                case 2 -> type == GgmlType.F16 ? (short) 0x7BFF : (short) 0x3F80; // F16: 65504, BF16: 1
                case 3 -> type == GgmlType.F16 ? (short) 0x83FF : (short) 0x807F; // largest negative subnormal
                default -> randomFinite(type, r);
            };
        }
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) r.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(w.length * 2L + 1).asSlice(1); // unaligned on purpose
            for (int i = 0; i < w.length; i++) {
                seg.set(I16_LE, 2L * i, w[i]);
            }
            FloatTensor t = FloatTensor.of(type, seg, w.length);
            for (int row = 0; row < rows; row++) {
                double expected = 0, magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) value(type, w[row * cols + c]) * x[c];
                    expected += p;
                    magnitude += Math.abs(p);
                }
                assertEquals(expected, t.dot((long) row * cols, x, 0, cols), 1e-5 * magnitude, type + " row " + row);
            }
            // a row of subnormals only: sums that small are exact in float
            int n = 64;
            for (int i = 0; i < n; i++) {
                seg.set(I16_LE, 2L * i, (short) (i % 2 == 0 ? i + 1 : 0x8000 | i));
            }
            float[] ones = new float[n];
            Arrays.fill(ones, 1f);
            double tiny = 0;
            for (int i = 0; i < n; i++) {
                tiny += value(type, seg.get(I16_LE, 2L * i));
            }
            assertEquals((float) tiny, t.dot(0, ones, 0, n), 0f, type + " subnormal row");
            // a non-finite weight makes the dot non-finite, as in the scalar conversion
            short inf = type == GgmlType.F16 ? (short) 0x7C00 : (short) 0x7F80;
            seg.set(I16_LE, 2L * 5, inf);
            assertEquals(Float.POSITIVE_INFINITY, t.dot(0, ones, 0, n), type + " +inf weight");
            seg.set(I16_LE, 2L * 5, (short) (inf | 0x0001)); // a signalling NaN pattern
            assertTrue(Float.isNaN(t.dot(0, ones, 0, n)), type + " NaN weight");
        }
    }

    private static short randomFinite(GgmlType type, Random r) {
        while (true) {
            short h = (short) r.nextInt(1 << 16);
            float v = value(type, h);
            if (Float.isFinite(v) && Math.abs(v) <= 65504) {
                return h;
            }
        }
    }

    private static float value(GgmlType type, short h) {
        return type == GgmlType.F16 ? Float.float16ToFloat(h) : Float.intBitsToFloat(h << 16);
    }
}
