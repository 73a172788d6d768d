package io.streamingllm.local.tensor;

import java.util.Arrays;

/**
 * One activation vector in the 8-bit block forms that quantised weights multiply with in integer lanes
 * (ggml's {@code vec_dot_type}), each made on first use after {@link #set}:
 *
 * <table>
 * <caption>block forms</caption>
 * <tr><th>form</th><th>for weights</th><th>block</th><th>scale {@code d}</th><th>quants</th></tr>
 * <tr><td>{@link ActivationFormat#Q8_0}</td><td>Q8_0, Q4_0</td><td>32</td>
 *     <td>amax/127 rounded to f16 (as ggml stores it)</td><td>round(x / (amax/127)), in [-127, 127]</td></tr>
 * <tr><td>{@link ActivationFormat#Q8_K}</td><td>Q4_K, Q5_K, Q6_K</td><td>256</td>
 *     <td>float, max/-127 where max is the value of largest magnitude</td>
 *     <td>min(127, round(x * -127/max)), in [-127, 127]; plus the sum of each 32 quants</td></tr>
 * </table>
 * Quants are kept widened to 16 bits so that kernels load them straight into short lanes. Quantising
 * costs a pass over the vector, once for all the products that share it (q, k and v; gate and up).
 *
 * <p>Not thread-safe: filled by one thread, then read by the matrix product's threads.
 */
public final class QuantizedActivations {
    private final int capacity;
    private float[] source;
    private int length;
    final short[] q80;
    final float[] d80;
    final short[] q8K;
    final float[] d8K;
    final int[] sums8K; // sum of the quants of each 32 values
    private float[] q80Lanes; // q80 as floats in Q8_0Tensor's lane order (batched products), made on demand
    private boolean q80LanesReady;
    private float[] q8KLanes; // q8K likewise, for the K-quants' batched products
    private boolean q8KLanesReady;
    private boolean q80Ready;
    private boolean q8KReady;

    public QuantizedActivations(int capacity) {
        this.capacity = capacity;
        q80 = new short[capacity];
        d80 = new float[(capacity + 31) / 32];
        q8K = new short[capacity];
        d8K = new float[(capacity + 255) / 256];
        sums8K = new int[(capacity + 31) / 32];
    }

    /** Takes {@code x[0..length)} as the vector (by reference: it must not change until the products are done). */
    public QuantizedActivations set(float[] x, int length) {
        if (length > capacity || length > x.length) {
            throw new IllegalArgumentException("vector of " + length + " values, capacity " + capacity);
        }
        this.source = x;
        this.length = length;
        q80Ready = false;
        q80LanesReady = false;
        q8KLanesReady = false;
        q8KReady = false;
        return this;
    }

    public float[] values() {
        return source;
    }

    public int length() {
        return length;
    }

    /** Makes the form {@code format} if it is not made yet for the current vector. */
    void prepare(ActivationFormat format) {
        switch (format) {
            case Q8_0 -> {
                if (!q80Ready) {
                    quantizeQ8_0();
                    q80Ready = true;
                }
            }
            case Q8_K -> {
                if (!q8KReady) {
                    quantizeQ8_K();
                    q8KReady = true;
                }
            }
            case FLOAT -> {
            }
        }
    }

    private void quantizeQ8_0() {
        if (length % 32 != 0) {
            throw new IllegalStateException("Q8_0 activations need a multiple of 32 values, got " + length);
        }
        for (int b = 0; b < length; b += 32) {
            float amax = 0;
            for (int i = b; i < b + 32; i++) {
                amax = Math.max(amax, Math.abs(source[i]));
            }
            float d = amax / 127;
            float id = d == 0 ? 0 : 1 / d;
            d80[b / 32] = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int i = b; i < b + 32; i++) {
                q80[i] = (short) Math.rint(source[i] * id);
            }
        }
    }

    private void quantizeQ8_K() {
        if (length % 256 != 0) {
            throw new IllegalStateException("Q8_K activations need a multiple of 256 values, got " + length);
        }
        for (int b = 0; b < length; b += 256) {
            float max = 0;
            float amax = 0;
            for (int i = b; i < b + 256; i++) {
                float ax = Math.abs(source[i]);
                if (ax > amax) {
                    amax = ax;
                    max = source[i];
                }
            }
            if (amax == 0) {
                d8K[b / 256] = 0;
                Arrays.fill(q8K, b, b + 256, (short) 0);
                Arrays.fill(sums8K, b / 32, b / 32 + 8, 0);
                continue;
            }
            float iscale = -127f / max;
            d8K[b / 256] = 1 / iscale;
            for (int s = b; s < b + 256; s += 32) {
                int sum = 0;
                for (int i = s; i < s + 32; i++) {
                    int v = (int) Math.min(127, Math.rint(iscale * source[i]));
                    q8K[i] = (short) v;
                    sum += v;
                }
                sums8K[s / 32] = sum;
            }
        }
    }

    /**
     * The Q8_0 quants as floats, each block's 32 in the order of {@link LaneTiles#toLaneFloats} (the Q8_0 form
     * must be made); filled once per vector, for the batched Q8_0 product.
     */
    float[] q80Lanes() {
        if (!q80LanesReady) {
            if (q80Lanes == null) {
                q80Lanes = new float[capacity];
            }
            LaneTiles.toLaneFloats(q80, length, q80Lanes);
            q80LanesReady = true;
        }
        return q80Lanes;
    }

    /**
     * The Q8_K quants as floats, each 32 of them in the order of {@link LaneTiles#toLaneFloats} (the Q8_K form
     * must be made): the K-quant kernels' int lanes hold the same values of each 32 as Q8_0's.
     */
    float[] q8KLanes() {
        if (!q8KLanesReady) {
            if (q8KLanes == null) {
                q8KLanes = new float[capacity];
            }
            LaneTiles.toLaneFloats(q8K, length, q8KLanes);
            q8KLanesReady = true;
        }
        return q8KLanes;
    }

    /** The dequantised value {@code i} of a form (tests). */
    float dequantized(ActivationFormat format, int i) {
        prepare(format);
        return switch (format) {
            case Q8_0 -> q80[i] * d80[i / 32];
            case Q8_K -> q8K[i] * d8K[i / 256];
            case FLOAT -> source[i];
        };
    }
}
