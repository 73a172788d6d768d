package io.streamingllm.local.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Batch products (prefill) for the types whose integer kernel works on Q8_0 activation blocks of 32 (Q8_0, Q4_0),
 * bit for bit what the single-vector kernels compute. There every int lane sums a fixed set of a block's products
 * (lane k: values {@code i + 2k} and {@code i + 2k + 1} of each short vector {@code i} of the block; Q4_0's
 * lanes hold the same values as Q8_0's), and those integer sums are exact in float too (below 2^24). So a tile
 * of weight quants is converted to floats once, into lane order ({@link #toLaneFloats}: each short vector's
 * even values, then its odd ones), as is each vector's activation quants ({@link QuantizedActivations#q80Lanes}),
 * and plain float FMAs give each lane's exact block sum, then the same {@code fma(d_w * d_x)} per block: two
 * rows times two vectors at a time, the weights decoded once per tile instead of once per vector.
 */
final class LaneTiles {
    static final int BLOCK = 32;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private LaneTiles() {
    }

    /** This thread's tile buffer of at least {@code size} floats (16 rows of 768 values and their scales: 49 KB). */
    static float[] scratch(int size) {
        float[] w = SCRATCH.get();
        if (w.length < size) {
            w = new float[size];
            SCRATCH.set(w);
        }
        return w;
    }

    /**
     * {@code out[b][from + r] = row r · x[b]} for the tile's {@code rows} rows: {@code w} holds their lane-ordered
     * quants ({@code rows * cols} floats), then their block scales ({@code rows * cols / 32}).
     */
    static void multiply(float[] w, int rows, int cols, int from, QuantizedActivations[] x, int batch, float[][] out) {
        int blocks = cols / BLOCK;
        int scales = rows * cols;
        int lanes = FloatTensor.F_SPECIES.length();
        for (int r = 0; r < rows; r += 2) {
            int r1 = Math.min(r + 1, rows - 1); // an odd last row is paired with itself
            int w0 = r * cols;
            int w1 = r1 * cols;
            for (int t = 0; t < batch; t += 2) {
                int t1 = Math.min(t + 1, batch - 1);
                float[] x0 = x[t].q80Lanes();
                float[] x1 = x[t1].q80Lanes();
                float[] d0 = x[t].d80;
                float[] d1 = x[t1].d80;
                FloatVector a00 = FloatVector.zero(FloatTensor.F_SPECIES);
                FloatVector a01 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                for (int j = 0, k = 0; j < cols; j += BLOCK, k++) {
                    FloatVector s00 = FloatVector.zero(FloatTensor.F_SPECIES);
                    FloatVector s01 = s00;
                    FloatVector s10 = s00;
                    FloatVector s11 = s00;
                    for (int q = 0; q < BLOCK; q += lanes) {
                        FloatVector wa = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w0 + j + q);
                        FloatVector wb = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w1 + j + q);
                        FloatVector xa = FloatVector.fromArray(FloatTensor.F_SPECIES, x0, j + q);
                        FloatVector xb = FloatVector.fromArray(FloatTensor.F_SPECIES, x1, j + q);
                        s00 = wa.fma(xa, s00);
                        s01 = wa.fma(xb, s01);
                        s10 = wb.fma(xa, s10);
                        s11 = wb.fma(xb, s11);
                    }
                    float dw0 = w[scales + r * blocks + k];
                    float dw1 = w[scales + r1 * blocks + k];
                    a00 = s00.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d0[k]), a00);
                    a01 = s01.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d1[k]), a01);
                    a10 = s10.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d0[k]), a10);
                    a11 = s11.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d1[k]), a11);
                }
                out[t][from + r] = VectorMath.sum(a00);
                out[t1][from + r] = VectorMath.sum(a01);
                out[t][from + r1] = VectorMath.sum(a10);
                out[t1][from + r1] = VectorMath.sum(a11);
            }
        }
    }

    /**
     * {@code q[0..length)} (blocks of 32 quants) as floats in lane order: for each short vector of a block
     * (32 / lanes of them), its even values, then its odd ones, each a float vector: lane k of the pair holds the
     * two values that the int lane k of the integer kernels adds.
     */
    static void toLaneFloats(short[] q, int length, float[] out) {
        toLaneFloats(q, 0, length, out, 0);
    }

    /** The same for {@code q[qOffset .. qOffset + length)} into {@code out} from {@code outOffset}. */
    static void toLaneFloats(short[] q, int qOffset, int length, float[] out, int outOffset) {
        int step = FloatTensor.WIDE_S_SPECIES.length();
        int lanes = step / 2;
        for (int j = 0; j < length; j += BLOCK) {
            for (int i = 0, slot = 0; i < BLOCK; i += step, slot += 2) {
                IntVector p = ShortVector.fromArray(FloatTensor.WIDE_S_SPECIES, q, qOffset + j + i).reinterpretAsInts();
                ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .intoArray(out, outOffset + j + slot * lanes);
                ((FloatVector) p.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .intoArray(out, outOffset + j + (slot + 1) * lanes);
            }
        }
    }
}
