package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** bfloat16: the upper 16 bits of a float32. */
final class BF16Tensor extends FloatTensor {
    BF16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float getFloat(long index) {
        return Float.intBitsToFloat(data.get(I16_LE, index * 2) << 16);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        int upper = F_SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(F_SPECIES);
        for (int i = 0; i < upper; i += lanes) {
            ShortVector h = ShortVector.fromMemorySegment(S_SPECIES, data, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN);
            acc = toFloat(h).fma(FloatVector.fromArray(F_SPECIES, x, xOffset + i), acc);
        }
        float s = VectorMath.sum(acc);
        for (int i = upper; i < n; i++) {
            s += getFloat(offset + i) * x[xOffset + i];
        }
        return s;
    }

    /** bfloat16 bits to floats: the bits go to the top half of a float. */
    static FloatVector toFloat(ShortVector h) {
        return ((IntVector) h.convertShape(VectorOperators.S2I, I_SPECIES, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
