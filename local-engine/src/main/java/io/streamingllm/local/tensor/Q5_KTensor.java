package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q5_K: super-blocks of 256 values = f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) pairs packed as in
 * Q4_K, 32 bytes of fifth bits, 128 bytes of low nibbles. Sub-block s (0..7) takes its low nibbles from
 * quant bytes 32*(s/2).. (low nibble when s is even, high when odd) and its fifth bit from bit s of
 * {@code qh[i]}. value = d*scale*q - dmin*min. 176 bytes a super-block.
 */
final class Q5_KTensor extends FloatTensor {
    static final int BLOCK = 256;
    static final int BYTES = 176;

    Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int i = (int) (index % BLOCK);
        int sub = i / 32;
        int l = i % 32;
        int sm = Q4_KTensor.scaleMin(data, block + 4, sub);
        int b = Q4_KTensor.u8(data, block + 48 + (sub / 2) * 32 + l);
        int q = (sub % 2 == 0 ? b & 0xF : b >>> 4) | ((Q4_KTensor.u8(data, block + 16 + l) >>> sub) & 1) << 4;
        return f16(data, block) * (sm & 0xFF) * q - f16(data, block + 2) * (sm >>> 8);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        float total = 0;
        long block = offset / BLOCK * BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BYTES) {
            float d = f16(data, block);
            float dmin = f16(data, block + 2);
            for (int g = 0; g < 4; g++) {
                int sm1 = Q4_KTensor.scaleMin(data, block + 4, 2 * g);
                int sm2 = Q4_KTensor.scaleMin(data, block + 4, 2 * g + 1);
                long qs = block + 48 + 32L * g;
                int x1 = xOffset + j + 64 * g;
                float dot1 = 0, dot2 = 0, sum1 = 0, sum2 = 0;
                for (int l = 0; l < 32; l++) {
                    int b = Q4_KTensor.u8(data, qs + l);
                    int h = Q4_KTensor.u8(data, block + 16 + l) >>> (2 * g);
                    float xa = x[x1 + l];
                    float xb = x[x1 + 32 + l];
                    dot1 += ((b & 0xF) | (h & 1) << 4) * xa;
                    dot2 += ((b >>> 4) | (h & 2) << 3) * xb;
                    sum1 += xa;
                    sum2 += xb;
                }
                total += d * ((sm1 & 0xFF) * dot1 + (sm2 & 0xFF) * dot2) - dmin * ((sm1 >>> 8) * sum1 + (sm2 >>> 8) * sum2);
            }
        }
        return total;
    }
}
