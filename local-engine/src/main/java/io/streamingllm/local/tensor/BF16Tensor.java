package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

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
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += Float.intBitsToFloat(data.get(I16_LE, (offset + i) * 2) << 16) * x[xOffset + i];
        }
        return s;
    }
}
