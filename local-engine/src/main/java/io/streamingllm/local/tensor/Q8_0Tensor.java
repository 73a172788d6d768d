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

/** Q8_0: blocks of 32 values = f16 scale d, then 32 int8 q; value = d * q. 34 bytes a block. */
final class Q8_0Tensor extends FloatTensor {
    static final int BLOCK = 32;
    static final int BYTES = 34;

    Q8_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        return f16(data, block) * data.get(ValueLayout.JAVA_BYTE, block + 2 + index % BLOCK);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        FloatVector acc = FloatVector.zero(F_SPECIES);
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            FloatVector blockSum = FloatVector.zero(F_SPECIES);
            for (int i = 0; i < BLOCK; i += lanes) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B_SPECIES, data, block + 2 + i, ByteOrder.LITTLE_ENDIAN)
                        .castShape(F_SPECIES, 0);
                blockSum = q.fma(FloatVector.fromArray(F_SPECIES, x, xOffset + j + i), blockSum);
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
     * Two rows at a time, sharing the activation loads and giving the core two independent chains. Per block:
     * weight bytes widened to shorts times the activation quants; with fewer than 32 short lanes, the products
     * of two vectors are added in their short lanes first (exact: two products are at most 2 * 128 * 127 <
     * 2^15), then each int lane's two shorts are split out and added ({@code (p >> 16) + ((p << 16) >> 16)});
     * with 32 lanes one vector holds the block and the neighbouring products go into int lanes with
     * {@code (p + (p << 16)) >> 16} (one op fewer; exact, as |sum| < 2^15). Either way each int lane holds the
     * same products, so the result does not depend on the vector size. Converted to float and scaled by
     * {@code d_w * d_x}. An odd last row is paired with itself. While a pair computes, one byte a block of the
     * next pair is loaded ({@link Prefetch}).
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
                if (step == BLOCK) {
                    ShortVector xs = ShortVector.fromArray(WIDE_S_SPECIES, xq, j);
                    IntVector p0 = widen(b0 + 2).mul(xs).reinterpretAsInts();
                    IntVector p1 = widen(b1 + 2).mul(xs).reinterpretAsInts();
                    s0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    s1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                } else {
                    s0 = IntVector.zero(I_SPECIES);
                    s1 = s0;
                    for (int i = 0; i < BLOCK; i += 2 * step) {
                        ShortVector xa = ShortVector.fromArray(WIDE_S_SPECIES, xq, j + i);
                        ShortVector xb = ShortVector.fromArray(WIDE_S_SPECIES, xq, j + i + step);
                        IntVector p0 = widen(b0 + 2 + i).mul(xa).add(widen(b0 + 2 + i + step).mul(xb)).reinterpretAsInts();
                        IntVector p1 = widen(b1 + 2 + i).mul(xa).add(widen(b1 + 2 + i + step).mul(xb)).reinterpretAsInts();
                        s0 = p0.lanewise(VectorOperators.ASHR, 16).add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(s0);
                        s1 = p1.lanewise(VectorOperators.ASHR, 16).add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(s1);
                    }
                    // out of the loop as a vector of known class (see the package doc)
                    s0 = IntVector.zero(I_SPECIES).add(s0);
                    s1 = IntVector.zero(I_SPECIES).add(s1);
                }
                // the next pair's bytes at twice this block's offset: every cache line of the next two rows
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
     * The batch form, bit for bit what {@link #dotsQuantized} computes, with the weights shared by the batch
     * ({@link LaneTiles}): the tile's quants widened and converted to lane-ordered floats once.
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
                weightLaneFloats(b + 2, w, r * cols + k * BLOCK);
                w[scales + r * blocks + k] = f16(data, b);
            }
        }
        LaneTiles.multiply(w, rows, cols, from, x, batch, out);
    }

    @Override
    void prepareBatch(QuantizedActivations x) {
        x.q80Lanes();
    }

    /** The block's 32 quants at byte {@code at} as floats in lane order (see {@link LaneTiles#toLaneFloats}). */
    private void weightLaneFloats(long at, float[] out, int offset) {
        int step = WIDE_S_SPECIES.length();
        int lanes = step / 2;
        for (int i = 0, slot = 0; i < BLOCK; i += step, slot += 2) {
            IntVector p = widen(at + i).reinterpretAsInts();
            ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                    .intoArray(out, offset + slot * lanes);
            ((FloatVector) p.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                    .intoArray(out, offset + (slot + 1) * lanes);
        }
    }

    /** The quant bytes at {@code at}, sign-extended to a short vector. */
    private ShortVector widen(long at) {
        return (ShortVector) ByteVector.fromMemorySegment(WIDE_B_SPECIES, data, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, WIDE_S_SPECIES, 0);
    }
}
