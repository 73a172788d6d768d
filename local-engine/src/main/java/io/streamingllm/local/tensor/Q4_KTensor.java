package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K: super-blocks of 256 values = f16 d, f16 dmin, 12 bytes of packed 6-bit (scale, min) pairs for
 * eight sub-blocks of 32, then 128 bytes of 4-bit quants. Sub-blocks come in pairs sharing 32 quant
 * bytes: the low nibbles are sub-block 2g, the high nibbles 2g+1. value = d*scale*q - dmin*min.
 * 144 bytes a super-block.
 */
final class Q4_KTensor extends FloatTensor {
    static final int BLOCK = 256;
    static final int BYTES = 144;

    Q4_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /** The 6-bit scale (low 8 bits of the result) and min (bits 8..15) of sub-block {@code j} (0..7). */
    static int scaleMin(MemorySegment data, long scales, int j) {
        int sc;
        int m;
        if (j < 4) {
            sc = u8(data, scales + j) & 63;
            m = u8(data, scales + j + 4) & 63;
        } else {
            sc = (u8(data, scales + j + 4) & 0xF) | ((u8(data, scales + j - 4) >>> 6) << 4);
            m = (u8(data, scales + j + 4) >>> 4) | ((u8(data, scales + j) >>> 6) << 4);
        }
        return sc | m << 8;
    }

    static int u8(MemorySegment data, long at) {
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, at));
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int i = (int) (index % BLOCK);
        int sub = i / 32;
        int sm = scaleMin(data, block + 4, sub);
        int b = u8(data, block + 16 + (sub / 2) * 32 + i % 32);
        int q = sub % 2 == 0 ? b & 0xF : b >>> 4;
        return f16(data, block) * (sm & 0xFF) * q - f16(data, block + 2) * (sm >>> 8);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            float d = f16(data, block);
            float dmin = f16(data, block + 2);
            long lo = data.get(I64_LE, block + 4);
            int hi = data.get(I32_LE, block + 12);
            long scales = scales(lo, hi);
            long mins = mins(lo, hi);
            for (int g = 0; g < 4; g++) {
                float scale1 = d * ((int) (scales >>> (16 * g)) & 0xFF);
                float scale2 = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                float min1 = -dmin * ((int) (mins >>> (16 * g)) & 0xFF);
                float min2 = -dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF);
                long qs = block + 16 + 32L * g;
                int x1 = xOffset + j + 64 * g;
                int x2 = x1 + 32;
                FloatVector dot1 = FloatVector.zero(F_SPECIES);
                FloatVector dot2 = FloatVector.zero(F_SPECIES);
                FloatVector sum1 = FloatVector.zero(F_SPECIES);
                FloatVector sum2 = FloatVector.zero(F_SPECIES);
                for (int i = 0; i < 32; i += lanes) {
                    // nibbles split in int lanes: x86 has no byte shift, a byte-lane LSHR costs a widen and a pack
                    IntVector b = (IntVector) ByteVector.fromMemorySegment(B_SPECIES, data, qs + i, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I_SPECIES, 0);
                    FloatVector lo4 = (FloatVector) b.and(0xF).convert(VectorOperators.I2F, 0);
                    FloatVector hi4 = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                    FloatVector xa = FloatVector.fromArray(F_SPECIES, x, x1 + i);
                    FloatVector xb = FloatVector.fromArray(F_SPECIES, x, x2 + i);
                    dot1 = lo4.fma(xa, dot1);
                    dot2 = hi4.fma(xb, dot2);
                    sum1 = sum1.add(xa);
                    sum2 = sum2.add(xb);
                }
                acc = dot1.fma(FloatVector.broadcast(F_SPECIES, scale1), acc);
                acc = dot2.fma(FloatVector.broadcast(F_SPECIES, scale2), acc);
                acc = sum1.fma(FloatVector.broadcast(F_SPECIES, min1), acc);
                acc = sum2.fma(FloatVector.broadcast(F_SPECIES, min2), acc);
            }
        }
        return VectorMath.sum(acc);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    /**
     * Against Q8_K activations, row by row. Per pair of sub-blocks, 32 quant bytes widen to shorts
     * whose low nibbles are sub-block 2g and high nibbles 2g+1, in the activations' order; products with the
     * activation quants are summed over the sub-block in short lanes (at most 4 products of 15 * 127 a lane
     * with 8 lanes), then neighbouring lanes pairwise into int lanes (exact: |sum| < 2^15), times the sub-block's 6-bit
     * scale, summed over the super-block in ints, then scaled by {@code d * d_x} in float. The mins term is
     * {@code dmin * d_x * sum(min_s * sum of the activation quants of sub-block s)}, in ints ({@link #minsDot}).
     */
    @Override
    void dotsQuantized(int from, int to, int cols, QuantizedActivations x, float[] out) {
        long rowBytes = (long) cols / BLOCK * BYTES;
        for (int r = from; r < to; r++) {
            out[r] = dotQuantized(r * rowBytes, cols, x);
        }
    }

    /** One row (a method small enough for C2 to inline all of its vector operations). */
    private float dotQuantized(long rowStart, int cols, QuantizedActivations x) {
        short[] xq = x.q8K;
        float[] xd = x.d8K;
        int[] xs = x.sums8K;
        int step = WIDE_S_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        float mins = 0;
        long b = rowStart;
        for (int j = 0; j < cols; j += BLOCK, b += BYTES) {
            long lo = data.get(I64_LE, b + 4);
            int hi = data.get(I32_LE, b + 12);
            long sc = scales(lo, hi);
            long mn = mins(lo, hi);
            IntVector t = IntVector.zero(I_SPECIES);
            for (int g = 0; g < 4; g++) {
                int xa = j + 64 * g;
                // the first step's products assigned, not added to a zero vector: 2-4% faster
                ShortVector w0 = quantBytes(b + 16 + 32 * g);
                ShortVector pa = w0.and((short) 0xF).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa));
                ShortVector pb = w0.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa + 32));
                for (int i = step; i < 32; i += step) {
                    ShortVector w = quantBytes(b + 16 + 32 * g + i);
                    pa = w.and((short) 0xF).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa + i)).add(pa);
                    pb = w.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa + 32 + i)).add(pb);
                }
                if (step < 32) { // out of the loop as vectors of known class (see the package doc)
                    pa = ShortVector.zero(WIDE_S_SPECIES).add(pa);
                    pb = ShortVector.zero(WIDE_S_SPECIES).add(pb);
                }
                IntVector ua = pairSums(pa);
                IntVector ub = pairSums(pb);
                int sh = 16 * g;
                t = ua.mul((int) (sc >>> sh) & 0xFF).add(ub.mul((int) (sc >>> (sh + 8)) & 0xFF)).add(t);
            }
            // the mins term after the vector loop, not interleaved with it: 4-7% faster (exact ints either way)
            int m = minsDot(mn, xs, j / 32);
            float dx = xd[j / BLOCK];
            acc = ((FloatVector) IntVector.zero(I_SPECIES).add(t).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F_SPECIES, f16(data, b) * dx), acc);
            mins += f16(data, b + 2) * dx * m;
        }
        return VectorMath.sum(acc) - mins;
    }

    /**
     * The batch form, bit for bit what {@link #dotsQuantized} computes ({@link LaneTiles}): the tile's nibbles
     * times their sub-block scales, as lane-ordered floats, once per tile instead of once per vector.
     */
    @Override
    void dotsQuantizedBatch(int from, int to, int cols, QuantizedActivations[] x, int batch, float[][] out) {
        dotsBatch(data, BYTES, this::scaledLaneFloats, from, to, cols, x, batch, out);
    }

    /** Writes one super-block's quants times their sub-block scales as lane-ordered floats from {@code at}. */
    @FunctionalInterface
    interface ScaledQuants {
        void write(long block, long scales, float[] out, int at);
    }

    /**
     * The batch product of a tensor laid out as Q4_K is (Q4_K, Q5_K: {@code d}, {@code dmin}, the 6-bit scales and
     * mins at the same offsets of a {@code bytes}-long super-block, the quants after them): the tile as
     * {@link LaneTiles#multiplyK} and {@link LaneTiles#subtractMins} read it, {@code quants} decoding each
     * super-block's quants.
     */
    static void dotsBatch(MemorySegment data, int bytes, ScaledQuants quants, int from, int to, int cols,
                          QuantizedActivations[] x, int batch, float[][] out) {
        int rows = to - from;
        int blocks = cols / BLOCK;
        int scales = rows * cols;
        int dmins = scales + rows * blocks;
        int padded = LaneTiles.paddedRows(rows); // dmins and mins rows in lanes, for LaneTiles.subtractMins
        int mins = dmins + blocks * padded;
        float[] w = LaneTiles.scratch(mins + blocks * 8 * padded);
        Arrays.fill(w, dmins, mins + blocks * 8 * padded, 0f); // the padding rows' terms are zero
        long rowBytes = (long) blocks * bytes;
        for (int r = 0; r < rows; r++) {
            long b = (from + r) * rowBytes;
            for (int k = 0; k < blocks; k++, b += bytes) {
                long lo = data.get(I64_LE, b + 4);
                int hi = data.get(I32_LE, b + 12);
                quants.write(b, scales(lo, hi), w, r * cols + k * BLOCK);
                long mn = mins(lo, hi);
                for (int s = 0; s < 8; s++) {
                    w[mins + (8 * k + s) * padded + r] = (int) (mn >>> (8 * s)) & 0xFF;
                }
                w[scales + r * blocks + k] = f16(data, b);
                w[dmins + k * padded + r] = f16(data, b + 2);
            }
        }
        LaneTiles.multiplyK(w, rows, cols, from, x, batch, out);
        LaneTiles.subtractMins(w, dmins, rows, cols, from, x, batch, out);
    }

    @Override
    void prepareBatch(QuantizedActivations x) {
        x.q8KLanes();
    }

    /** The super-block at byte {@code b}: each nibble times its sub-block's scale, in lane order from {@code at}. */
    private void scaledLaneFloats(long b, long sc, float[] out, int at) {
        int step = WIDE_S_SPECIES.length();
        for (int g = 0; g < 4; g++) {
            short s1 = (short) ((sc >>> (16 * g)) & 0xFF);
            short s2 = (short) ((sc >>> (16 * g + 8)) & 0xFF);
            for (int i = 0; i < 32; i += step) {
                nibbleLaneFloats(b + 16 + 32 * g + i, 0, s1, out, at + 64 * g + i);
                nibbleLaneFloats(b + 16 + 32 * g + i, 4, s2, out, at + 64 * g + 32 + i);
            }
        }
    }

    /**
     * One short vector's nibbles (bytes from {@code from}, shifted right by {@code shift}) times {@code scale} as lane
     * floats at {@code at}. A method of its own that takes no vectors: a larger caller ran out of C2's inlining
     * budget and passed the vectors boxed, 3-4x slower.
     */
    private void nibbleLaneFloats(long from, int shift, short scale, float[] out, int at) {
        ShortVector q = quantBytes(from);
        LaneTiles.laneFloats(q.lanewise(VectorOperators.LSHR, shift).and((short) 0xF).mul(scale), out, at);
    }

    /** The quant bytes at {@code at}, zero-extended to a short vector. */
    private ShortVector quantBytes(long at) {
        return (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
    }

    /**
     * Adds each pair of neighbouring short lanes into one int lane: {@code (p + (p << 16)) >> 16} on the int
     * holding both, exact when each pair's sum is below 2^15 in magnitude.
     */
    static IntVector pairSums(ShortVector products) {
        IntVector p = products.reinterpretAsInts();
        return p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /**
     * The eight 6-bit sub-block scales of a super-block, byte j = scale j, from its 12 scale bytes loaded as
     * {@code lo} (bytes 0-7) and {@code hi} (bytes 8-11): scales 0-3 are the low 6 bits of bytes 0-3; scales
     * 4-7 take their low 4 bits from the low nibbles of bytes 8-11 and their high 2 bits from the top bits of
     * bytes 0-3. All eight at once in a few register operations (a per-sub-block decode cost ~13%).
     */
    static long scales(long lo, int hi) {
        int b0to3 = (int) lo;
        return (b0to3 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | (b0to3 >>> 2 & 0x30303030)) << 32;
    }

    /**
     * {@code sum_s min_s * xs[at + s]} for the eight mins packed in {@code mins} (byte s = min s): one 8-lane
     * int product and its sum instead of eight scalar ones, exact either way (at most 8 * 63 * 32 * 127, far below
     * 2^31), so the float operations after it are unchanged. Scalar, this took 15% of a Q4_K row's time; Q5_K keeps
     * the scalar loop (the vector form measured 3% slower there, where the mins weigh less).
     */
    static int minsDot(long mins, int[] xs, int at) {
        IntVector m = (IntVector) LongVector.broadcast(LongVector.SPECIES_128, mins).reinterpretAsBytes()
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_256, 0);
        return m.mul(IntVector.fromArray(IntVector.SPECIES_256, xs, at)).reduceLanes(VectorOperators.ADD);
    }

    /** The eight 6-bit mins likewise: bytes 4-7, then the high nibbles of bytes 8-11 with the top bits of 4-7. */
    static long mins(long lo, int hi) {
        int b4to7 = (int) (lo >>> 32);
        return (b4to7 & 0x3F3F3F3FL) | (long) ((hi >>> 4 & 0x0F0F0F0F) | (b4to7 >>> 2 & 0x30303030)) << 32;
    }
}
