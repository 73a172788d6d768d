package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0: blocks of 32 values = f16 scale d, then 16 bytes; byte j holds value j in its low nibble and value
 * j + 16 in its high nibble; value = d * (nibble - 8). 18 bytes a block.
 */
final class Q4_0Tensor extends FloatTensor {
    static final int BLOCK = 32;
    static final int BYTES = 18;

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
}
