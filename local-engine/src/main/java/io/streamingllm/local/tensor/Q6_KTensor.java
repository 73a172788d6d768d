package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
                    // a chunk of at most 16 values never straddles a 16-value scale group
                    ByteVector a = ByteVector.fromMemorySegment(B_SPECIES, data, ql + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector b = ByteVector.fromMemorySegment(B_SPECIES, data, ql + 32 + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B_SPECIES, data, qh + l, ByteOrder.LITTLE_ENDIAN);
                    int is = l / 16;
                    ByteVector q0 = a.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q1 = b.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    acc = term(q0, x, xb + l, d * data.get(ValueLayout.JAVA_BYTE, sc + is), acc);
                    acc = term(q1, x, xb + 32 + l, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 2), acc);
                    acc = term(q2, x, xb + 64 + l, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 4), acc);
                    acc = term(q3, x, xb + 96 + l, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 6), acc);
                }
            }
        }
        return VectorMath.sum(acc);
    }

    private static FloatVector term(ByteVector q, float[] x, int xAt, float scale, FloatVector acc) {
        FloatVector prod = ((FloatVector) q.castShape(F_SPECIES, 0)).mul(FloatVector.fromArray(F_SPECIES, x, xAt));
        return prod.fma(FloatVector.broadcast(F_SPECIES, scale), acc);
    }
}
