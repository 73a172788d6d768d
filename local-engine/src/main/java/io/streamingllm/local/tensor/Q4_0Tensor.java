package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Q4_0: blocks of 32 values = f16 scale d, then 16 bytes; byte j holds value j in its low nibble and value
 * j + 16 in its high nibble; value = d * (nibble - 8). 18 bytes a block.
 */
final class Q4_0Tensor extends FloatTensor {
    static final int BLOCK = 32;
    static final int BYTES = 18;

    /** 32 short lanes hold a whole block: the 16 quant bytes widen into the low half, high nibbles move up. */
    private static final boolean WHOLE_BLOCK = WIDE_S_SPECIES.length() == 32;
    private static final VectorShuffle<Short> UP_16 = VectorShuffle.fromOp(WIDE_S_SPECIES, i -> (i + 16) % WIDE_S_SPECIES.length());

    Q4_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int j = (int) (index % BLOCK);
        int b = Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)));
        int q = j < 16 ? b & 0xF : b >>> 4;
        return f16(data, block) * (q - 8);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            FloatVector blockSum = FloatVector.zero(F_SPECIES);
            for (int i = 0; i < 16; i += lanes) {
                ByteVector b = ByteVector.fromMemorySegment(B_SPECIES, data, block + 2 + i, ByteOrder.LITTLE_ENDIAN);
                FloatVector lo = (FloatVector) b.and((byte) 0xF).sub((byte) 8).castShape(F_SPECIES, 0);
                FloatVector hi = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F_SPECIES, 0);
                blockSum = lo.fma(FloatVector.fromArray(F_SPECIES, x, xOffset + j + i), blockSum);
                blockSum = hi.fma(FloatVector.fromArray(F_SPECIES, x, xOffset + j + 16 + i), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F_SPECIES, f16(data, block)), acc);
        }
        return VectorMath.sum(acc);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /**
     * As {@link Q8_0Tensor#dotsQuantized}, with the block's nibbles widened to shorts first (low nibbles are
     * values 0-15, high nibbles 16-31; with 32 short lanes one lane rotation puts the high ones in place).
     */
    @Override
    void dotsQuantized(int from, int to, int cols, QuantizedActivations x, float[] out) {
        short[] xq = x.q80;
        float[] xd = x.d80;
        int step = WIDE_S_SPECIES.length();
        long rowBytes = (long) cols / BLOCK * BYTES;
        long lastByte = data.byteSize() - 1;
        int touched = 0;
        for (int r = from; r < to; r += 2) {
            int r1 = Math.min(r + 1, to - 1);
            long b0 = r * rowBytes;
            long b1 = r1 * rowBytes;
            FloatVector acc0 = FloatVector.zero(F_SPECIES);
            FloatVector acc1 = acc0;
            for (int j = 0; j < cols; j += BLOCK, b0 += BYTES, b1 += BYTES) {
                IntVector s0;
                IntVector s1;
                if (WHOLE_BLOCK) {
                    ShortVector xs = ShortVector.fromArray(WIDE_S_SPECIES, xq, j);
                    ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B_SPECIES, data, b0 + 2, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B_SPECIES, data, b1 + 2, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                    w0 = w0.and((short) 0xF).or(w0.lanewise(VectorOperators.LSHR, 4).rearrange(UP_16)).sub((short) 8);
                    w1 = w1.and((short) 0xF).or(w1.lanewise(VectorOperators.LSHR, 4).rearrange(UP_16)).sub((short) 8);
                    IntVector p0 = w0.mul(xs).reinterpretAsInts();
                    IntVector p1 = w1.mul(xs).reinterpretAsInts();
                    s0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    s1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                } else {
                    s0 = IntVector.zero(I_SPECIES);
                    s1 = s0;
                    for (int i = 0; i < 16; i += step) {
                        ShortVector xlo = ShortVector.fromArray(WIDE_S_SPECIES, xq, j + i);
                        ShortVector xhi = ShortVector.fromArray(WIDE_S_SPECIES, xq, j + 16 + i);
                        ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, b0 + 2 + i, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                        ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, b1 + 2 + i, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
                        ShortVector p0 = w0.and((short) 0xF).sub((short) 8).mul(xlo);
                        ShortVector q0 = w0.lanewise(VectorOperators.LSHR, 4).sub((short) 8).mul(xhi);
                        ShortVector p1 = w1.and((short) 0xF).sub((short) 8).mul(xlo);
                        ShortVector q1 = w1.lanewise(VectorOperators.LSHR, 4).sub((short) 8).mul(xhi);
                        // low and high nibbles' products added in short lanes first: 4 products of 8 * 127 a pair
                        IntVector u0 = p0.add(q0).reinterpretAsInts();
                        IntVector u1 = p1.add(q1).reinterpretAsInts();
                        s0 = u0.add(u0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).add(s0);
                        s1 = u1.add(u1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).add(s1);
                    }
                    // out of the loop as a vector of known class (see the package doc)
                    s0 = IntVector.zero(I_SPECIES).add(s0);
                    s1 = IntVector.zero(I_SPECIES).add(s1);
                }
                // the next pair's bytes at twice this block's offset: every cache line of the next two rows (Prefetch)
                touched ^= data.get(ValueLayout.JAVA_BYTE, Math.min(b0 + 2 * rowBytes + (b0 - r * rowBytes), lastByte));
                float dx = xd[j / BLOCK];
                acc0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F_SPECIES, f16(data, b0) * dx), acc0);
                acc1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F_SPECIES, f16(data, b1) * dx), acc1);
            }
            out[r] = VectorMath.sum(acc0);
            out[r1] = VectorMath.sum(acc1);
        }
        Prefetch.consume(touched);
    }

    /**
     * The batch form, bit for bit what {@link #dotsQuantized} computes ({@link LaneTiles}: its int lanes hold the
     * same values of a block as Q8_0's): the tile's nibbles decoded to {@code q - 8} and converted to lane-ordered
     * floats once, not once per vector, in short vectors as decode widens them (a scalar decode cost 15%).
     */
    @Override
    void dotsQuantizedBatch(int from, int to, int cols, QuantizedActivations[] x, int batch, float[][] out) {
        int rows = to - from;
        int blocks = cols / BLOCK;
        float[] w = LaneTiles.scratch(rows * (cols + blocks));
        int scales = rows * cols;
        long rowBytes = (long) blocks * BYTES;
        for (int r = 0; r < rows; r++) {
            long b = (from + r) * rowBytes;
            for (int k = 0; k < blocks; k++, b += BYTES) {
                laneFloats(b + 2, w, r * cols + k * BLOCK);
                w[scales + r * blocks + k] = f16(data, b);
            }
        }
        LaneTiles.multiply(w, rows, cols, from, x, batch, out);
    }

    @Override
    void prepareBatch(QuantizedActivations x) {
        x.q80Lanes();
    }

    /** The block's quants at byte {@code at} minus 8 as lane-ordered floats (see {@link LaneTiles}) from {@code to}. */
    private void laneFloats(long at, float[] out, int to) {
        if (WHOLE_BLOCK) {
            ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B_SPECIES, data, at, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
            LaneTiles.laneFloats(w.and((short) 0xF).or(w.lanewise(VectorOperators.LSHR, 4).rearrange(UP_16)).sub((short) 8), out, to);
            return;
        }
        int step = WIDE_S_SPECIES.length();
        for (int i = 0; i < 16; i += step) {
            ShortVector w = (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, at + i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE_S_SPECIES, 0);
            LaneTiles.laneFloats(w.and((short) 0xF).sub((short) 8), out, to + i);
            LaneTiles.laneFloats(w.lanewise(VectorOperators.LSHR, 4).sub((short) 8), out, to + 16 + i);
        }
    }
}
