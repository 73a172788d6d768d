package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_K: super-blocks of 256 values = f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) pairs packed as in
 * Q4_K, 32 bytes of fifth bits, 128 bytes of low nibbles. Sub-block s (0..7) takes its low nibbles from
 * quant bytes 32*(s/2).. (low nibble when s is even, high when odd) and its fifth bit from bit s of
 * {@code qh[i]}. value = d*scale*q - dmin*min. 176 bytes a super-block.
 */
final class Q5_KTensor extends FloatTensor {
    static final int BLOCK = 256;
    static final int BYTES = 176;

    Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int i = (int) (index % BLOCK);
        int sub = i / 32;
        int l = i % 32;
        int sm = Q4_KTensor.scaleMin(data, block + 4, sub);
        int b = Q4_KTensor.u8(data, block + 48 + (sub / 2) * 32 + l);
        int q = (sub % 2 == 0 ? b & 0xF : b >>> 4) | ((Q4_KTensor.u8(data, block + 16 + l) >>> sub) & 1) << 4;
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
            long scales = Q4_KTensor.scales(lo, hi);
            long mins = Q4_KTensor.mins(lo, hi);
            for (int g = 0; g < 4; g++) {
                float scale1 = d * ((int) (scales >>> (16 * g)) & 0xFF);
                float scale2 = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                float min1 = -dmin * ((int) (mins >>> (16 * g)) & 0xFF);
                float min2 = -dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF);
                long qs = block + 48 + 32L * g;
                int x1 = xOffset + j + 64 * g;
                int x2 = x1 + 32;
                byte bit1 = (byte) (1 << (2 * g));
                byte bit2 = (byte) (2 << (2 * g));
                FloatVector dot1 = FloatVector.zero(F_SPECIES);
                FloatVector dot2 = FloatVector.zero(F_SPECIES);
                FloatVector sum1 = FloatVector.zero(F_SPECIES);
                FloatVector sum2 = FloatVector.zero(F_SPECIES);
                for (int i = 0; i < 32; i += lanes) {
                    // byte ops that C2 compiles well, all inline (see Q6_K); the fifth bit through a mask
                    // (a shift by the variable 2g was not compiled well)
                    ByteVector b = ByteVector.fromMemorySegment(B_SPECIES, data, qs + i, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B_SPECIES, data, block + 16 + i, ByteOrder.LITTLE_ENDIAN);
                    VectorMask<Byte> fifth1 = h.and(bit1).compare(VectorOperators.NE, (byte) 0);
                    VectorMask<Byte> fifth2 = h.and(bit2).compare(VectorOperators.NE, (byte) 0);
                    FloatVector q1 = (FloatVector) b.and((byte) 0xF).add((byte) 16, fifth1).castShape(F_SPECIES, 0);
                    FloatVector q2 = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).add((byte) 16, fifth2).castShape(F_SPECIES, 0);
                    FloatVector xa = FloatVector.fromArray(F_SPECIES, x, x1 + i);
                    FloatVector xb = FloatVector.fromArray(F_SPECIES, x, x2 + i);
                    dot1 = q1.fma(xa, dot1);
                    dot2 = q2.fma(xb, dot2);
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
     * As {@link Q4_KTensor#dotsQuantized}, with each quant's fifth bit taken from the {@code qh} bytes widened to
     * shorts: bit 2g for sub-block 2g, bit 2g+1 for 2g+1 (a short-lane shift by 2g, then into bit 4). Products
     * summed in short lanes as there (at most 4 of 31 * 127 a lane, so each pair stays below 2^15).
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
            long sc = Q4_KTensor.scales(lo, hi);
            long mn = Q4_KTensor.mins(lo, hi);
            IntVector t = IntVector.zero(I_SPECIES);
            for (int g = 0; g < 4; g++) {
                int xa = j + 64 * g;
                ShortVector pa = ShortVector.zero(WIDE_S_SPECIES);
                ShortVector pb = pa;
                for (int i = 0; i < 32; i += step) {
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, b + 48 + 32 * g + i, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    ShortVector h = ((ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, b + 16 + i, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0)).lanewise(VectorOperators.LSHR, 2 * g);
                    pa = w.and((short) 0xF).or(h.lanewise(VectorOperators.LSHL, 4).and((short) 0x10)).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa + i)).add(pa);
                    pb = w.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHL, 3).and((short) 0x10)).mul(ShortVector.fromArray(WIDE_S_SPECIES, xq, xa + 32 + i)).add(pb);
                }
                // out of the loop as vectors of known class (see the package doc)
                IntVector ua = Q4_KTensor.pairSums(ShortVector.zero(WIDE_S_SPECIES).add(pa));
                IntVector ub = Q4_KTensor.pairSums(ShortVector.zero(WIDE_S_SPECIES).add(pb));
                int sh = 16 * g;
                t = ua.mul((int) (sc >>> sh) & 0xFF).add(ub.mul((int) (sc >>> (sh + 8)) & 0xFF)).add(t);
            }
            // the mins term after the vector loop, not interleaved with it: 4-7% faster (exact ints either way)
            int m = 0;
            for (int s = 0; s < 8; s++) {
                m += ((int) (mn >>> (8 * s)) & 0xFF) * xs[j / 32 + s];
            }
            float dx = xd[j / BLOCK];
            acc = ((FloatVector) IntVector.zero(I_SPECIES).add(t).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F_SPECIES, f16(data, b) * dx), acc);
            mins += f16(data, b + 2) * dx * m;
        }
        return VectorMath.sum(acc) - mins;
    }

    /**
     * The batch form, bit for bit what {@link #dotsQuantized} computes ({@link LaneTiles}): the tile's 5-bit
     * quants times their sub-block scales, as lane-ordered floats, once per tile instead of once per vector.
     */
    @Override
    void dotsQuantizedBatch(int from, int to, int cols, QuantizedActivations[] x, int batch, float[][] out) {
        Q4_KTensor.dotsBatch(data, BYTES, this::scaledLaneFloats, from, to, cols, x, batch, out);
    }

    @Override
    void prepareBatch(QuantizedActivations x) {
        x.q8KLanes();
    }

    /** The super-block at byte {@code b}: each quant times its sub-block's scale, in lane order from {@code at}. */
    private void scaledLaneFloats(long b, long sc, float[] out, int at) {
        int step = WIDE_S_SPECIES.length();
        for (int g = 0; g < 4; g++) {
            short s1 = (short) ((sc >>> (16 * g)) & 0xFF);
            short s2 = (short) ((sc >>> (16 * g + 8)) & 0xFF);
            for (int i = 0; i < 32; i += step) {
                quantLaneFloats(b + 48 + 32 * g + i, 0, b + 16 + i, 2 * g, s1, out, at + 64 * g + i);
                quantLaneFloats(b + 48 + 32 * g + i, 4, b + 16 + i, 2 * g + 1, s2, out, at + 64 * g + 32 + i);
            }
        }
    }

    /**
     * One short vector's quants, low 4 bits from the bytes at {@code from} shifted right by {@code shift}, fifth
     * bit from bit {@code bit} of the bytes at {@code high}, times {@code scale} as lane floats at {@code at}. A
     * method of its own that takes no vectors (see {@link Q4_KTensor}'s {@code nibbleLaneFloats}).
     */
    private void quantLaneFloats(long from, int shift, long high, int bit, short scale, float[] out, int at) {
        ShortVector w = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, from, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
        ShortVector h = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, high, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
        ShortVector q = w.lanewise(VectorOperators.LSHR, shift).and((short) 0xF)
                .or(h.lanewise(VectorOperators.LSHR, bit).and((short) 1).lanewise(VectorOperators.LSHL, 4));
        LaneTiles.laneFloats(q.mul(scale), out, at);
    }
}
