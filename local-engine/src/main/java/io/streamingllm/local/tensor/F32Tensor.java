package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

final class F32Tensor extends FloatTensor {
    F32Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.getAtIndex(F32_LE, index);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        int upper = F_SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(F_SPECIES);
        for (int i = 0; i < upper; i += lanes) {
            FloatVector w = FloatVector.fromMemorySegment(F_SPECIES, data, (offset + i) * 4, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F_SPECIES, x, xOffset + i), acc);
        }
        float s = VectorMath.sum(acc);
        for (int i = upper; i < n; i++) {
            s += getFloat(offset + i) * x[xOffset + i];
        }
        return s;
    }
}
