package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test-side quantisers and dequantisers for every weight type, written from ggml's block layouts
 * (ggml-common.h / ggml-quants.c) independently of the engine's tensor classes, which the tests check
 * against them. Quality only needs to be sane: tests compare against the dequantised values.
 */
public final class Quant {
    private Quant() {
    }

    public static byte[] quantize(GgmlType type, float[] x) {
        if (x.length % type.blockSize() != 0) {
            throw new IllegalArgumentException(x.length + " values is not a multiple of the " + type + " block");
        }
        ByteBuffer out = ByteBuffer.allocate((int) type.byteSize(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < x.length; b += type.blockSize()) {
            switch (type) {
                case F32 -> out.putFloat(x[b]);
                case F16 -> out.putShort(Float.floatToFloat16(x[b]));
                case BF16 -> {
                    int bits = Float.floatToRawIntBits(x[b]);
                    out.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
                }
                case Q8_0 -> q8_0(x, b, out);
                case Q4_0 -> q4_0(x, b, out);
                case Q4_K -> qK(x, b, out, false);
                case Q5_K -> qK(x, b, out, true);
                case Q6_K -> q6_K(x, b, out);
            }
        }
        return out.array();
    }

    private static float h(float f) { // value after a round trip through f16
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    private static void q8_0(float[] x, int b, ByteBuffer out) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[b + i]));
        }
        float d = h(amax / 127);
        out.putShort(Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) {
            out.put((byte) (d == 0 ? 0 : Math.max(-127, Math.min(127, Math.round(x[b + i] / d)))));
        }
    }

    private static void q4_0(float[] x, int b, ByteBuffer out) {
        float max = 0;
        for (int i = 0; i < 32; i++) {
            if (Math.abs(x[b + i]) > Math.abs(max)) {
                max = x[b + i];
            }
        }
        float d = h(max / -8);
        out.putShort(Float.floatToFloat16(d));
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) {
            q[i] = d == 0 ? 8 : Math.max(0, Math.min(15, Math.round(x[b + i] / d + 8)));
        }
        for (int i = 0; i < 16; i++) {
            out.put((byte) (q[i] | q[i + 16] << 4));
        }
    }

    /** Q4_K (5 bits false) or Q5_K: eight sub-blocks of 32 with a 6-bit scale and min each. */
    private static void qK(float[] x, int b, ByteBuffer out, boolean five) {
        int levels = five ? 31 : 15;
        float[] scale = new float[8], min = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int s = 0; s < 8; s++) {
            float lo = 0, hi = 0;
            for (int i = 0; i < 32; i++) {
                lo = Math.min(lo, x[b + 32 * s + i]);
                hi = Math.max(hi, x[b + 32 * s + i]);
            }
            scale[s] = (hi - lo) / levels;
            min[s] = -lo;
            maxScale = Math.max(maxScale, scale[s]);
            maxMin = Math.max(maxMin, min[s]);
        }
        float d = h(maxScale / 63), dmin = h(maxMin / 63);
        int[] sc = new int[8], m = new int[8];
        int[] q = new int[256];
        for (int s = 0; s < 8; s++) {
            sc[s] = d == 0 ? 0 : Math.min(63, Math.round(scale[s] / d));
            m[s] = dmin == 0 ? 0 : Math.min(63, Math.round(min[s] / dmin));
            float es = d * sc[s], em = dmin * m[s];
            for (int i = 0; i < 32; i++) {
                q[32 * s + i] = es == 0 ? 0 : Math.max(0, Math.min(levels, Math.round((x[b + 32 * s + i] + em) / es)));
            }
        }
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(dmin));
        byte[] packed = new byte[12];
        for (int j = 0; j < 4; j++) {
            packed[j] = (byte) (sc[j] | (sc[j + 4] >> 4) << 6);
            packed[j + 4] = (byte) (m[j] | (m[j + 4] >> 4) << 6);
            packed[j + 8] = (byte) ((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
        }
        out.put(packed);
        if (five) {
            for (int l = 0; l < 32; l++) {
                int bits = 0;
                for (int s = 0; s < 8; s++) {
                    bits |= ((q[32 * s + l] >> 4) & 1) << s;
                }
                out.put((byte) bits);
            }
        }
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[64 * g + l] & 0xF) | (q[64 * g + 32 + l] & 0xF) << 4));
            }
        }
    }

    private static void q6_K(float[] x, int b, ByteBuffer out) {
        float[] scale = new float[16];
        float maxScale = 0;
        for (int s = 0; s < 16; s++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                amax = Math.max(amax, Math.abs(x[b + 16 * s + i]));
            }
            scale[s] = amax / 31;
            maxScale = Math.max(maxScale, scale[s]);
        }
        float d = h(maxScale / 127);
        int[] sc = new int[16];
        int[] q = new int[256];
        for (int s = 0; s < 16; s++) {
            sc[s] = d == 0 ? 0 : Math.min(127, Math.round(scale[s] / d));
            float es = d * sc[s];
            for (int i = 0; i < 16; i++) {
                q[16 * s + i] = 32 + (es == 0 ? 0 : Math.max(-32, Math.min(31, Math.round(x[b + 16 * s + i] / es))));
            }
        }
        byte[] ql = new byte[128], qh = new byte[64];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int base = 128 * half + l;
                int q0 = q[base], q1 = q[base + 32], q2 = q[base + 64], q3 = q[base + 96];
                ql[64 * half + l] = (byte) ((q0 & 0xF) | (q2 & 0xF) << 4);
                ql[64 * half + 32 + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                qh[32 * half + l] = (byte) ((q0 >> 4) | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
            }
        }
        out.put(ql).put(qh);
        for (int s = 0; s < 16; s++) {
            out.put((byte) sc[s]);
        }
        out.putShort(Float.floatToFloat16(d));
    }

    /** The values the engine must see for these bytes, decoded following ggml's dequantize_row_* loops. */
    public static float[] dequantize(GgmlType type, byte[] bytes, int n) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[n];
        int blocks = n / type.blockSize();
        for (int blk = 0; blk < blocks; blk++) {
            int p = (int) type.byteSize((long) blk * type.blockSize());
            int o = blk * type.blockSize();
            switch (type) {
                case F32 -> y[o] = in.getFloat(p);
                case F16 -> y[o] = Float.float16ToFloat(in.getShort(p));
                case BF16 -> y[o] = Float.intBitsToFloat(in.getShort(p) << 16);
                case Q8_0 -> {
                    float d = Float.float16ToFloat(in.getShort(p));
                    for (int i = 0; i < 32; i++) {
                        y[o + i] = d * in.get(p + 2 + i);
                    }
                }
                case Q4_0 -> {
                    float d = Float.float16ToFloat(in.getShort(p));
                    for (int j = 0; j < 16; j++) {
                        int v = in.get(p + 2 + j) & 0xFF;
                        y[o + j] = ((v & 0xF) - 8) * d;
                        y[o + j + 16] = ((v >> 4) - 8) * d;
                    }
                }
                case Q4_K, Q5_K -> {
                    boolean five = type == GgmlType.Q5_K;
                    float d = Float.float16ToFloat(in.getShort(p));
                    float dmin = Float.float16ToFloat(in.getShort(p + 2));
                    int scales = p + 4;
                    int qh = p + 16;
                    int ql = p + (five ? 48 : 16);
                    int yi = o;
                    int is = 0;
                    int u1 = 1, u2 = 2;
                    for (int j = 0; j < 256; j += 64) {
                        int[] sm1 = scaleMinK4(in, scales, is);
                        int[] sm2 = scaleMinK4(in, scales, is + 1);
                        float d1 = d * sm1[0], m1 = dmin * sm1[1], d2 = d * sm2[0], m2 = dmin * sm2[1];
                        for (int l = 0; l < 32; l++) {
                            int hb = five && (in.get(qh + l) & u1) != 0 ? 16 : 0;
                            y[yi++] = d1 * ((in.get(ql + l) & 0xF) + hb) - m1;
                        }
                        for (int l = 0; l < 32; l++) {
                            int hb = five && (in.get(qh + l) & u2) != 0 ? 16 : 0;
                            y[yi++] = d2 * (((in.get(ql + l) & 0xFF) >> 4) + hb) - m2;
                        }
                        ql += 32;
                        is += 2;
                        u1 <<= 2;
                        u2 <<= 2;
                    }
                }
                case Q6_K -> {
                    float d = Float.float16ToFloat(in.getShort(p + 208));
                    int ql = p, qh = p + 128, sc = p + 192, yi = o;
                    for (int nn = 0; nn < 256; nn += 128) {
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int h = in.get(qh + l) & 0xFF;
                            int a = in.get(ql + l) & 0xFF, c = in.get(ql + l + 32) & 0xFF;
                            y[yi + l] = d * in.get(sc + is) * (((a & 0xF) | (h & 3) << 4) - 32);
                            y[yi + l + 32] = d * in.get(sc + is + 2) * (((c & 0xF) | ((h >> 2) & 3) << 4) - 32);
                            y[yi + l + 64] = d * in.get(sc + is + 4) * (((a >> 4) | ((h >> 4) & 3) << 4) - 32);
                            y[yi + l + 96] = d * in.get(sc + is + 6) * (((c >> 4) | ((h >> 6) & 3) << 4) - 32);
                        }
                        yi += 128;
                        ql += 64;
                        qh += 32;
                        sc += 8;
                    }
                }
            }
        }
        return y;
    }

    private static int[] scaleMinK4(ByteBuffer in, int q, int j) {
        if (j < 4) {
            return new int[] {in.get(q + j) & 63, in.get(q + j + 4) & 63};
        }
        int qj4 = in.get(q + j + 4) & 0xFF;
        return new int[] {(qj4 & 0xF) | (((in.get(q + j - 4) & 0xFF) >> 6) << 4),
                (qj4 >> 4) | (((in.get(q + j) & 0xFF) >> 6) << 4)};
    }
}
