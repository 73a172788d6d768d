package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K: super-blocks of 256 values = 128 bytes of low nibbles (ql), 64 bytes of 2-bit high parts (qh),
 * 16 int8 scales (one per 16 values), f16 d. Each half of 128 values uses 64 ql and 32 qh bytes: for
 * l < 32, values l, l+32, l+64, l+96 take ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high and bits
 * 0-1, 2-3, 4-5, 6-7 of qh[l]. value = d * scale * (q - 32). 210 bytes a super-block.
 */
final class Q6_KTensor extends FloatTensor {
    static final int BLOCK = 256;
    static final int BYTES = 210;

    /** 32 short lanes span two 16-value scale groups: int lanes 0-7 take the first scale, 8-15 the second. */
    private static final boolean TWO_GROUPS = WIDE_S_SPECIES.length() == 32;
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I_SPECIES, TWO_GROUPS ? 0xFF00L : 0L);
    private static final VectorMask<Short> UPPER_SHORTS = VectorMask.fromLong(WIDE_S_SPECIES, TWO_GROUPS ? 0xFFFF0000L : 0L);

    Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    private int q(long block, int i) {
        int half = i / 128;
        int r = i % 128;
        int quarter = r / 32;
        int l = r % 32;
        int ql = Q4_KTensor.u8(data, block + 64L * half + l + (quarter % 2) * 32);
        int lo = quarter < 2 ? ql & 0xF : ql >>> 4;
        int hi = (Q4_KTensor.u8(data, block + 128 + 32L * half + l) >>> (2 * quarter)) & 3;
        return (lo | hi << 4) - 32;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int i = (int) (index % BLOCK);
        int scale = data.get(ValueLayout.JAVA_BYTE, block + 192 + i / 16);
        return f16(data, block + 208) * scale * q(block, i);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            float d = f16(data, block + 208);
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                long qh = block + 128 + 32L * half;
                long sc = block + 192 + 8L * half;
                int xb = xOffset + j + 128 * half;
                for (int l = 0; l < 32; l += lanes) {
                    // A chunk of at most 16 values never straddles a 16-value scale group. Only byte ops that
                    // C2 compiles well here (and, or, add, logical right shift; no left shift: x86 has no byte
                    // shifts), and everything inside this method: vectors crossing a non-inlined call are boxed.
                    ByteVector a = ByteVector.fromMemorySegment(B_SPECIES, data, ql + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector b = ByteVector.fromMemorySegment(B_SPECIES, data, ql + 32 + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B_SPECIES, data, qh + l, ByteOrder.LITTLE_ENDIAN);
                    int is = l / 16;
                    ByteVector h0 = h.and((byte) 0x03);
                    h0 = h0.add(h0);
                    h0 = h0.add(h0);
                    h0 = h0.add(h0);
                    h0 = h0.add(h0); // (h & 3) << 4
                    ByteVector h1 = h.and((byte) 0x0C);
                    h1 = h1.add(h1);
                    h1 = h1.add(h1); // ((h >> 2) & 3) << 4
                    ByteVector h2 = h.and((byte) 0x30); // ((h >> 4) & 3) << 4
                    ByteVector h3 = h.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30); // (h >> 6) << 4
                    FloatVector q0 = (FloatVector) a.and((byte) 0xF).or(h0).sub((byte) 32).castShape(F_SPECIES, 0);
                    FloatVector q1 = (FloatVector) b.and((byte) 0xF).or(h1).sub((byte) 32).castShape(F_SPECIES, 0);
                    FloatVector q2 = (FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h2).sub((byte) 32).castShape(F_SPECIES, 0);
                    FloatVector q3 = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).or(h3).sub((byte) 32).castShape(F_SPECIES, 0);
                    acc = q0.mul(FloatVector.fromArray(F_SPECIES, x, xb + l))
                            .fma(FloatVector.broadcast(F_SPECIES, d * data.get(ValueLayout.JAVA_BYTE, sc + is)), acc);
                    acc = q1.mul(FloatVector.fromArray(F_SPECIES, x, xb + 32 + l))
                            .fma(FloatVector.broadcast(F_SPECIES, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 2)), acc);
                    acc = q2.mul(FloatVector.fromArray(F_SPECIES, x, xb + 64 + l))
                            .fma(FloatVector.broadcast(F_SPECIES, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 4)), acc);
                    acc = q3.mul(FloatVector.fromArray(F_SPECIES, x, xb + 96 + l))
                            .fma(FloatVector.broadcast(F_SPECIES, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 6)), acc);
                }
            }
        }
        return VectorMath.sum(acc);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    /**
     * Against Q8_K activations, row by row: the four 6-bit quants of each position widened to shorts from
     * {@code ql}/{@code qh} (as in {@link #dot}), minus 32, times the activation quants, added pairwise into
     * int lanes (exact: |sum| < 2^15), times their 16-value group's int8 scale, summed over the super-block
     * in ints, then scaled by {@code d * d_x} in float.
     */
    @Override
    void dotsQuantized(int from, int to, int cols, QuantizedActivations x, float[] out) {
        long rowBytes = (long) cols / BLOCK * BYTES;
        for (int r = from; r < to; r++) {
            out[r] = dotQuantized(r * rowBytes, cols, x);
        }
    }

    /** One row, all vector operations in this method: C2 boxes vectors that cross a call it did not inline. */
    private float dotQuantized(long rowStart, int cols, QuantizedActivations x) {
        short[] xq = x.q8K;
        float[] xd = x.d8K;
        int step = WIDE_S_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        long b = rowStart;
        for (int j = 0; j < cols; j += BLOCK, b += BYTES) {
            IntVector t = IntVector.zero(I_SPECIES);
            for (int half = 0; half < 2; half++) {
                long ql = b + 64L * half;
                long qh = b + 128 + 32L * half;
                long sc = b + 192 + 8L * half;
                int xb = j + 128 * half;
                for (int l = 0; l < 32; l += step) {
                    ShortVector a = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, ql + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, ql + 32 + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    ShortVector h = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, qh + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    int gs = l / 16;
                    IntVector p;
                    IntVector s;
                    p = a.and((short) 0xF).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4)).sub((short) 32).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xb + l)).reinterpretAsInts();
                    s = IntVector.broadcast(I_SPECIES, data.get(ValueLayout.JAVA_BYTE, sc + gs));
                    if (TWO_GROUPS) {
                        s = s.blend(data.get(ValueLayout.JAVA_BYTE, sc + gs + 1), UPPER_HALF);
                    }
                    t = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(s).add(t);
                    p = c.and((short) 0xF).or(h.and((short) 0xC).lanewise(VectorOperators.LSHL, 2)).sub((short) 32).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xb + 32 + l)).reinterpretAsInts();
                    s = IntVector.broadcast(I_SPECIES, data.get(ValueLayout.JAVA_BYTE, sc + gs + 2));
                    if (TWO_GROUPS) {
                        s = s.blend(data.get(ValueLayout.JAVA_BYTE, sc + gs + 2 + 1), UPPER_HALF);
                    }
                    t = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(s).add(t);
                    p = a.lanewise(VectorOperators.LSHR, 4).or(h.and((short) 0x30)).sub((short) 32).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xb + 64 + l)).reinterpretAsInts();
                    s = IntVector.broadcast(I_SPECIES, data.get(ValueLayout.JAVA_BYTE, sc + gs + 4));
                    if (TWO_GROUPS) {
                        s = s.blend(data.get(ValueLayout.JAVA_BYTE, sc + gs + 4 + 1), UPPER_HALF);
                    }
                    t = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(s).add(t);
                    p = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and((short) 0x30)).sub((short) 32).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xb + 96 + l)).reinterpretAsInts();
                    s = IntVector.broadcast(I_SPECIES, data.get(ValueLayout.JAVA_BYTE, sc + gs + 6));
                    if (TWO_GROUPS) {
                        s = s.blend(data.get(ValueLayout.JAVA_BYTE, sc + gs + 6 + 1), UPPER_HALF);
                    }
                    t = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(s).add(t);
                }
            }
            acc = ((FloatVector) IntVector.zero(I_SPECIES).add(t).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F_SPECIES, f16(data, b + 208) * xd[j / BLOCK]), acc);
        }
        return VectorMath.sum(acc);
    }

    /**
     * The batch form, bit for bit what {@link #dotsQuantized} computes ({@link LaneTiles}): the tile's quants
     * minus 32 times their group's scale (at most 32 * 128), as lane-ordered floats, once per tile instead of once
     * per vector.
     */
    @Override
    void dotsQuantizedBatch(int from, int to, int cols, QuantizedActivations[] x, int batch, float[][] out) {
        int rows = to - from;
        int blocks = cols / BLOCK;
        int scales = rows * cols;
        float[] w = LaneTiles.scratch(scales + rows * blocks);
        long rowBytes = (long) blocks * BYTES;
        for (int r = 0; r < rows; r++) {
            long b = (from + r) * rowBytes;
            for (int k = 0; k < blocks; k++, b += BYTES) {
                scaledLaneFloats(b, w, r * cols + k * BLOCK);
                w[scales + r * blocks + k] = f16(data, b + 208);
            }
        }
        LaneTiles.multiplyK(w, rows, cols, from, x, batch, out);
    }

    @Override
    void prepareBatch(QuantizedActivations x) {
        x.q8KLanes();
    }

    /** The super-block at byte {@code b}: each quant minus 32 times its scale, in lane order from {@code at}. */
    private void scaledLaneFloats(long b, float[] out, int at) {
        int step = WIDE_S_SPECIES.length();
        for (int half = 0; half < 2; half++) {
            long ql = b + 64L * half;
            long qh = b + 128 + 32L * half;
            long sc = b + 192 + 8L * half;
            int xb = at + 128 * half;
            for (int l = 0; l < 32; l += step) {
                long gs = sc + l / 16;
                quantLaneFloats(ql + l, 0, qh + l, 0, gs, out, xb + l);
                quantLaneFloats(ql + 32 + l, 0, qh + l, 2, gs + 2, out, xb + 32 + l);
                quantLaneFloats(ql + l, 4, qh + l, 4, gs + 4, out, xb + 64 + l);
                quantLaneFloats(ql + 32 + l, 4, qh + l, 6, gs + 6, out, xb + 96 + l);
            }
        }
    }

    /**
     * One short vector's quants, low 4 bits from the bytes at {@code low} shifted right by {@code lowShift}, high
     * 2 bits from the bytes at {@code high} shifted right by {@code highShift}, minus 32, times the scales from
     * {@code scale} ({@link #groupScales}) as lane floats at {@code at}. A method of its own that takes no vectors:
     * with the four of a position in one method C2 ran out of its inlining budget and passed vectors boxed.
     */
    private void quantLaneFloats(long low, int lowShift, long high, int highShift, long scale, float[] out, int at) {
        ShortVector a = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, low, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
        ShortVector h = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, high, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
        ShortVector q = a.lanewise(VectorOperators.LSHR, lowShift).and((short) 0xF)
                .or(h.lanewise(VectorOperators.LSHR, highShift).and((short) 3).lanewise(VectorOperators.LSHL, 4))
                .sub((short) 32);
        LaneTiles.laneFloats(q.mul(groupScales(scale)), out, at);
    }

    /** The int8 scale at byte {@code at} in every short lane; with 32 lanes the upper 16 take the next one's. */
    private ShortVector groupScales(long at) {
        ShortVector s = ShortVector.broadcast(WIDE_S_SPECIES, data.get(ValueLayout.JAVA_BYTE, at));
        return TWO_GROUPS ? s.blend(data.get(ValueLayout.JAVA_BYTE, at + 1), UPPER_SHORTS) : s;
    }
}
