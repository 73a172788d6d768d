package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;

/**
 * The rounding ggml's CPU backend applies to the activation vector of a matrix product, written from its
 * documented block formats: before multiplying, the activations are converted to the weight type's
 * {@code vec_dot_type} and the product is taken against those (exactly, in integers for the 8-bit blocks).
 * F32 keeps float; F16 and BF16 round each value; Q8_0 and Q4_0 weights take Q8_0 activations (blocks of 32,
 * scale amax/127 stored as f16); the K-quants take Q8_K activations (blocks of 256, float scale
 * -max/127 where max is the value of largest magnitude, quants rounded to nearest and capped at 127).
 * Returned values are the dequantised activations, so a float64 product with them is what ggml computes.
 */
public final class GgmlRounding {
    private GgmlRounding() {
    }

    public static double f16(double x) {
        return Float.float16ToFloat(Float.floatToFloat16((float) x));
    }

    static double bf16(double x) {
        int bits = Float.floatToRawIntBits((float) x);
        return Float.intBitsToFloat(((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) << 16);
    }

    public static double[] activations(GgmlType weights, double[] x) {
        double[] out = new double[x.length];
        switch (weights) {
            case F32 -> {
                for (int i = 0; i < x.length; i++) {
                    out[i] = (float) x[i];
                }
            }
            case F16 -> {
                for (int i = 0; i < x.length; i++) {
                    out[i] = f16(x[i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < x.length; i++) {
                    out[i] = bf16(x[i]);
                }
            }
            case Q8_0, Q4_0 -> {
                for (int b = 0; b < x.length; b += 32) {
                    q8_0(x, b, out);
                }
            }
            case Q4_K, Q5_K, Q6_K -> {
                for (int b = 0; b < x.length; b += 256) {
                    q8_K(x, b, out);
                }
            }
        }
        return out;
    }

    private static void q8_0(double[] x, int b, double[] out) {
        float amax = 0;
        for (int i = b; i < b + 32; i++) {
            amax = Math.max(amax, Math.abs((float) x[i]));
        }
        float d = amax / 127;
        float id = d == 0 ? 0 : 1 / d;
        double dh = f16(d);
        for (int i = b; i < b + 32; i++) {
            out[i] = Math.rint((float) x[i] * id) * dh;
        }
    }

    private static void q8_K(double[] x, int b, double[] out) {
        float max = 0, amax = 0;
        for (int i = b; i < b + 256; i++) {
            float ax = Math.abs((float) x[i]);
            if (ax > amax) {
                amax = ax;
                max = (float) x[i];
            }
        }
        if (amax == 0) {
            return;
        }
        float iscale = -127f / max;
        float d = 1 / iscale;
        for (int i = b; i < b + 256; i++) {
            out[i] = Math.min(127, Math.rint(iscale * (float) x[i])) * d;
        }
    }
}
