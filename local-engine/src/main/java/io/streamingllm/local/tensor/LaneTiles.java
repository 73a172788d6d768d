package io.streamingllm.local.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Batch products (prefill) for the quantised types, bit for bit what the single-vector kernels compute. There
 * every int lane sums a fixed set of a block's products (lane k: values {@code i + 2k} and {@code i + 2k + 1} of
 * each short vector {@code i} of a 32-value block, for Q8_0 and Q4_0 against Q8_0 activation blocks and for
 * Q4_K, Q5_K and Q6_K against Q8_K ones), and those integer sums are exact in float too (below 2^24). So a tile
 * of weight quants is converted to floats once, into lane order ({@link #toLaneFloats}: each short vector's even
 * values, then its odd ones), as is each vector's activation quants ({@link QuantizedActivations#q80Lanes},
 * {@link QuantizedActivations#q8KLanes}), and plain float FMAs give each lane's exact block sum, then the same
 * {@code fma(d_w * d_x)} per block: four rows times two vectors at a time, the weights decoded once per tile
 * instead of once per vector. (Four rows against two rows times two vectors: prefill 17-35% faster with 512-bit
 * vectors, whose 32 registers hold the eight block sums, eight running sums and three operands; the same within
 * noise with {@code -XX:UseAVX=2}, whose 16 do not.)
 *
 * <p>The K-quants' sub-block scales are integers multiplied into the int lane sums, so they are multiplied into
 * the tile's weight quants instead: the lane sums are then the same integers, and still exact in float. Per lane
 * and super-block of 256 values: Q4_K at most 32 products of 15 * 63 * 127 (3.8M), Q5_K 31 * 63 * 127 (7.9M),
 * Q6_K 32 * 128 * 127 (16.6M, just below 2^24 = 16.8M); every partial sum is bounded by the same, so the order
 * of the additions does not matter (with 512-bit vectors a lane holds half as many). The K-quants' mins term takes
 * the decode's float operations, for a vector of rows at once ({@link #subtractMins}).
 */
final class LaneTiles {
    static final int BLOCK = 32;
    /** Values of a K-quant super-block: the Q8_K activation block, one {@code d_x} and one {@code d_w} each. */
    static final int SUPER_BLOCK = 256;
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
     * {@code out[b][from + r] = row r · x[b]} for the tile's {@code rows} rows against Q8_0 activation blocks:
     * {@code w} holds their lane-ordered quants ({@code rows * cols} floats), then their block scales
     * ({@code rows * cols / 32}). Four rows times two vectors a step; the loop over a block's 32 values has a
     * constant trip count, so it is unrolled (a kernel of its own for this reason: shared with the K-quants'
     * 256-value blocks it ran 20% slower).
     */
    static void multiply(float[] w, int rows, int cols, int from, QuantizedActivations[] x, int batch, float[][] out) {
        int blocks = cols / BLOCK;
        int scales = rows * cols;
        int lanes = FloatTensor.F_SPECIES.length();
        for (int r = 0; r < rows; r += 4) {
            // a short last group repeats its last row: the same sums computed twice, written to the same place
            int r1 = Math.min(r + 1, rows - 1);
            int r2 = Math.min(r + 2, rows - 1);
            int r3 = Math.min(r + 3, rows - 1);
            int w0 = r * cols;
            int w1 = r1 * cols;
            int w2 = r2 * cols;
            int w3 = r3 * cols;
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
                FloatVector a20 = a00;
                FloatVector a21 = a00;
                FloatVector a30 = a00;
                FloatVector a31 = a00;
                for (int j = 0, k = 0; j < cols; j += BLOCK, k++) {
                    FloatVector s00 = FloatVector.zero(FloatTensor.F_SPECIES);
                    FloatVector s01 = s00;
                    FloatVector s10 = s00;
                    FloatVector s11 = s00;
                    FloatVector s20 = s00;
                    FloatVector s21 = s00;
                    FloatVector s30 = s00;
                    FloatVector s31 = s00;
                    for (int q = 0; q < BLOCK; q += lanes) {
                        FloatVector xa = FloatVector.fromArray(FloatTensor.F_SPECIES, x0, j + q);
                        FloatVector xb = FloatVector.fromArray(FloatTensor.F_SPECIES, x1, j + q);
                        FloatVector wa = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w0 + j + q);
                        s00 = wa.fma(xa, s00);
                        s01 = wa.fma(xb, s01);
                        FloatVector wb = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w1 + j + q);
                        s10 = wb.fma(xa, s10);
                        s11 = wb.fma(xb, s11);
                        FloatVector wc = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w2 + j + q);
                        s20 = wc.fma(xa, s20);
                        s21 = wc.fma(xb, s21);
                        FloatVector wd = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w3 + j + q);
                        s30 = wd.fma(xa, s30);
                        s31 = wd.fma(xb, s31);
                    }
                    float dw0 = w[scales + r * blocks + k];
                    float dw1 = w[scales + r1 * blocks + k];
                    float dw2 = w[scales + r2 * blocks + k];
                    float dw3 = w[scales + r3 * blocks + k];
                    a00 = s00.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d0[k]), a00);
                    a01 = s01.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d1[k]), a01);
                    a10 = s10.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d0[k]), a10);
                    a11 = s11.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d1[k]), a11);
                    a20 = s20.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw2 * d0[k]), a20);
                    a21 = s21.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw2 * d1[k]), a21);
                    a30 = s30.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw3 * d0[k]), a30);
                    a31 = s31.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw3 * d1[k]), a31);
                }
                out[t][from + r] = VectorMath.sum(a00);
                out[t1][from + r] = VectorMath.sum(a01);
                out[t][from + r1] = VectorMath.sum(a10);
                out[t1][from + r1] = VectorMath.sum(a11);
                out[t][from + r2] = VectorMath.sum(a20);
                out[t1][from + r2] = VectorMath.sum(a21);
                out[t][from + r3] = VectorMath.sum(a30);
                out[t1][from + r3] = VectorMath.sum(a31);
            }
        }
    }

    /**
     * The same against Q8_K activation blocks (K-quant weights, their sub-block scales multiplied in): {@code w}
     * holds the rows' lane-ordered quants, then one {@code d} per 256 values. (Two rows times four vectors, with
     * the same eight sums but four activation loads a step, measured 15-20% slower with C2.) A copy of {@link #multiply} with the block size a
     * constant on purpose: one shared loop taking it as a parameter ran Q8_0 prefill 20-50% slower once K-quant
     * products had run in the same JVM (C2 compiles the shared loop for the trip count it saw first).
     */
    static void multiplyK(float[] w, int rows, int cols, int from, QuantizedActivations[] x, int batch, float[][] out) {
        int blocks = cols / SUPER_BLOCK;
        int scales = rows * cols;
        int lanes = FloatTensor.F_SPECIES.length();
        for (int r = 0; r < rows; r += 4) {
            // a short last group repeats its last row: the same sums computed twice, written to the same place
            int r1 = Math.min(r + 1, rows - 1);
            int r2 = Math.min(r + 2, rows - 1);
            int r3 = Math.min(r + 3, rows - 1);
            int w0 = r * cols;
            int w1 = r1 * cols;
            int w2 = r2 * cols;
            int w3 = r3 * cols;
            for (int t = 0; t < batch; t += 2) {
                int t1 = Math.min(t + 1, batch - 1);
                float[] x0 = x[t].q8KLanes();
                float[] x1 = x[t1].q8KLanes();
                float[] d0 = x[t].d8K;
                float[] d1 = x[t1].d8K;
                FloatVector a00 = FloatVector.zero(FloatTensor.F_SPECIES);
                FloatVector a01 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                FloatVector a20 = a00;
                FloatVector a21 = a00;
                FloatVector a30 = a00;
                FloatVector a31 = a00;
                for (int j = 0, k = 0; j < cols; j += SUPER_BLOCK, k++) {
                    FloatVector s00 = FloatVector.zero(FloatTensor.F_SPECIES);
                    FloatVector s01 = s00;
                    FloatVector s10 = s00;
                    FloatVector s11 = s00;
                    FloatVector s20 = s00;
                    FloatVector s21 = s00;
                    FloatVector s30 = s00;
                    FloatVector s31 = s00;
                    for (int q = 0; q < SUPER_BLOCK; q += lanes) {
                        FloatVector xa = FloatVector.fromArray(FloatTensor.F_SPECIES, x0, j + q);
                        FloatVector xb = FloatVector.fromArray(FloatTensor.F_SPECIES, x1, j + q);
                        FloatVector wa = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w0 + j + q);
                        s00 = wa.fma(xa, s00);
                        s01 = wa.fma(xb, s01);
                        FloatVector wb = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w1 + j + q);
                        s10 = wb.fma(xa, s10);
                        s11 = wb.fma(xb, s11);
                        FloatVector wc = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w2 + j + q);
                        s20 = wc.fma(xa, s20);
                        s21 = wc.fma(xb, s21);
                        FloatVector wd = FloatVector.fromArray(FloatTensor.F_SPECIES, w, w3 + j + q);
                        s30 = wd.fma(xa, s30);
                        s31 = wd.fma(xb, s31);
                    }
                    float dw0 = w[scales + r * blocks + k];
                    float dw1 = w[scales + r1 * blocks + k];
                    float dw2 = w[scales + r2 * blocks + k];
                    float dw3 = w[scales + r3 * blocks + k];
                    a00 = s00.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d0[k]), a00);
                    a01 = s01.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw0 * d1[k]), a01);
                    a10 = s10.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d0[k]), a10);
                    a11 = s11.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw1 * d1[k]), a11);
                    a20 = s20.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw2 * d0[k]), a20);
                    a21 = s21.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw2 * d1[k]), a21);
                    a30 = s30.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw3 * d0[k]), a30);
                    a31 = s31.fma(FloatVector.broadcast(FloatTensor.F_SPECIES, dw3 * d1[k]), a31);
                }
                out[t][from + r] = VectorMath.sum(a00);
                out[t1][from + r] = VectorMath.sum(a01);
                out[t][from + r1] = VectorMath.sum(a10);
                out[t1][from + r1] = VectorMath.sum(a11);
                out[t][from + r2] = VectorMath.sum(a20);
                out[t1][from + r2] = VectorMath.sum(a21);
                out[t][from + r3] = VectorMath.sum(a30);
                out[t1][from + r3] = VectorMath.sum(a31);
            }
        }
    }

    /**
     * Rows of a K-quant tile rounded up to whole float vectors: its {@code dmin}s and mins are stored rows in lanes
     * ({@link #subtractMins}), the rows past {@code rows} zero.
     */
    static int paddedRows(int rows) {
        int lanes = FloatTensor.F_SPECIES.length();
        return (rows + lanes - 1) / lanes * lanes;
    }

    /**
     * The K-quants' mins term, {@code out[b][from + r] -= sum over super-blocks k of dmin_k * d_x,k * m_k} with
     * {@code m_k} the sum of the super-block's eight 6-bit mins times the activation quant sums of its sub-blocks:
     * the decode kernel's float operations in its order, for a vector of rows at once (one per lane; {@code m_k}
     * is an integer below 2^21, exact in float). {@code w} holds the tile's {@code dmin}s from {@code dmins}, at
     * {@code k * paddedRows + r}, then its mins as floats, at {@code (8k + s) * paddedRows + r} for sub-block s.
     */
    static void subtractMins(float[] w, int dmins, int rows, int cols, int from, QuantizedActivations[] x, int batch,
            float[][] out) {
        int lanes = FloatTensor.F_SPECIES.length();
        int blocks = cols / SUPER_BLOCK;
        int padded = paddedRows(rows);
        int mins = dmins + blocks * padded;
        float[] tail = new float[lanes];
        for (int b = 0; b < batch; b++) {
            int[] sums = x[b].sums8K;
            float[] dx = x[b].d8K;
            float[] o = out[b];
            for (int r = 0; r < rows; r += lanes) {
                FloatVector term = FloatVector.zero(FloatTensor.F_SPECIES);
                for (int k = 0; k < blocks; k++) {
                    FloatVector m = FloatVector.zero(FloatTensor.F_SPECIES);
                    for (int s = 8 * k; s < 8 * k + 8; s++) {
                        m = FloatVector.fromArray(FloatTensor.F_SPECIES, w, mins + s * padded + r)
                                .fma(FloatVector.broadcast(FloatTensor.F_SPECIES, (float) sums[s]), m);
                    }
                    FloatVector dmin = FloatVector.fromArray(FloatTensor.F_SPECIES, w, dmins + k * padded + r);
                    term = term.add(dmin.mul(dx[k]).mul(m));
                }
                if (r + lanes <= rows) {
                    FloatVector.fromArray(FloatTensor.F_SPECIES, o, from + r).sub(term).intoArray(o, from + r);
                } else { // the tile's last rows: out's next entries belong to another range
                    term.intoArray(tail, 0);
                    for (int i = 0; i < rows - r; i++) {
                        o[from + r + i] -= tail[i];
                    }
                }
            }
        }
    }

    /**
     * A short vector of quants holding values {@code [at, at + its length)} of a row (the kernels' short vector
     * there) as floats in lane order into {@code out[at ..]}: its even values, then its odd ones.
     */
    static void laneFloats(ShortVector v, float[] out, int at) {
        IntVector p = v.reinterpretAsInts();
        ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                .intoArray(out, at);
        ((FloatVector) p.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                .intoArray(out, at + FloatTensor.F_SPECIES.length());
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
