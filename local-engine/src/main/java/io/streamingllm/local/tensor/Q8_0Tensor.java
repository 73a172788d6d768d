package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

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
}
