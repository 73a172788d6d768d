package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        float total = 0;
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            float d = f16(data, block + 208);
            float blockSum = 0;
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                long qh = block + 128 + 32L * half;
                long sc = block + 192 + 8L * half;
                int xb = xOffset + j + 128 * half;
                // four sums per 16-value scale group: index = quarter*2 + l/16
                float[] sums = new float[8];
                for (int l = 0; l < 32; l++) {
                    int a = Q4_KTensor.u8(data, ql + l);
                    int b = Q4_KTensor.u8(data, ql + 32 + l);
                    int h = Q4_KTensor.u8(data, qh + l);
                    int is = l / 16;
                    sums[is] += (((a & 0xF) | (h & 3) << 4) - 32) * x[xb + l];
                    sums[2 + is] += (((b & 0xF) | ((h >>> 2) & 3) << 4) - 32) * x[xb + 32 + l];
                    sums[4 + is] += (((a >>> 4) | ((h >>> 4) & 3) << 4) - 32) * x[xb + 64 + l];
                    sums[6 + is] += (((b >>> 4) | ((h >>> 6) & 3) << 4) - 32) * x[xb + 96 + l];
                }
                for (int s = 0; s < 8; s++) {
                    blockSum += data.get(ValueLayout.JAVA_BYTE, sc + s) * sums[s];
                }
            }
            total += d * blockSum;
        }
        return total;
    }
}
