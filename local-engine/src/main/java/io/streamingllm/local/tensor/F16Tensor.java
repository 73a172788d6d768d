package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** IEEE half precision (1 sign, 5 exponent, 10 mantissa bits). */
final class F16Tensor extends FloatTensor {
    F16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return f16(data, index * 2);
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

    /**
     * Half-precision bits to floats, exactly as {@link Float#float16ToFloat} (the Vector API has no half
     * conversion). Sign and the 15 exponent+mantissa bits move to the float's top and exponent/mantissa
     * position: a half with exponent e then reads as a float with exponent e, i.e. 2^-112 times the right
     * value, and one multiply by 2^112 re-biases it. The multiply is exact, also for subnormal halves
     * (they become float subnormals m * 2^-136) and zeros. Infinities and NaNs (exponent 31) get the
     * float's all-ones exponent instead, which the multiply keeps.
     */
    static FloatVector toFloat(ShortVector h) {
        IntVector bits = ((IntVector) h.convertShape(VectorOperators.S2I, I_SPECIES, 0))
                .lanewise(VectorOperators.LSHL, 13)
                .and(0x8FFF_E000); // drop the sign extension between sign and exponent
        VectorMask<Integer> infOrNan = bits.and(0x7FFF_FFFF).compare(VectorOperators.GE, 0x1F << 23);
        bits = bits.lanewise(VectorOperators.OR, 0x7000_0000, infOrNan);
        return bits.reinterpretAsFloats().mul(0x1p112f);
    }
}
