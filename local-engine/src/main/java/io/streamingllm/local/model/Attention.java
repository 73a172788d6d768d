package io.streamingllm.local.model;

import io.streamingllm.local.model.Transformer.AttentionProbe;
import io.streamingllm.local.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RoPE and the attention of one query head over a {@link KvCache}, per layer: global layers attend to the
 * whole cache (sinks + recent, see {@link KvCache} for the positions), sliding-window layers to the last
 * {@link ModelConfig.Variant#slidingWindow} cache positions, with their own RoPE base. Immutable; safe to
 * share, the score buffers are the caller's.
 */
final class Attention {
    private static final VectorSpecies<Float> F = VectorMath.FLOATS;

    private final ModelConfig c;
    private final double[][] invFreq; // [layer][pair]: RoPE angle per position of each rotated pair

    Attention(ModelConfig c) {
        this.c = c;
        double[] global = frequencies(c.ropeTheta(), c.ropeFreqScale());
        float[] unscaled = new float[c.ropeDims() / 2];
        Arrays.fill(unscaled, 1f);
        double[] sliding = c.variant().slidingWindow() > 0 ? frequencies(c.variant().slidingRopeTheta(), unscaled) : global;
        invFreq = new double[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            invFreq[l] = c.sliding(l) ? sliding : global;
        }
    }

    private double[] frequencies(float theta, float[] scale) {
        double[] f = new double[c.ropeDims() / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = Math.pow(theta, -2.0 * i / c.ropeDims()) / scale[i];
        }
        return f;
    }

    /** Rotates each head of {@code vec} by {@code pos} with layer {@code l}'s frequencies: pairs (2i, 2i+1), or (i, i+d/2) for NEOX. */
    void rope(float[] vec, int heads, long pos, int l) {
        double[] freq = invFreq[l];
        int hs = c.headSize();
        int half = c.ropeDims() / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * freq[i];
            float cos = (float) Math.cos(angle);
            float sin = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int a = h * hs + (c.ropeNeox() ? i : 2 * i);
                int b = c.ropeNeox() ? a + half : a + 1;
                float v0 = vec[a];
                float v1 = vec[b];
                vec[a] = v0 * cos - v1 * sin;
                vec[b] = v0 * sin + v1 * cos;
            }
        }
    }

    /** First cache position layer {@code l} attends to, for a query at cache position {@code len - 1}. */
    int windowStart(int l, int len) {
        return c.sliding(l) ? Math.max(0, len - c.variant().slidingWindow()) : 0;
    }

    /**
     * One head's attention for the query at cache position {@code len-1}: scores against cache positions
     * {@code windowStart..len-1} (sinks with {@code qSink}, the rest with {@code q}), softmax, and the
     * weighted sum of values into {@code out[h*headSize ..]}. {@code att} holds the weights at their cache
     * positions (the probe sees {@code 0..len-1} before they are divided by their sum; positions before the
     * window weigh 0).
     */
    void attend(KvCache cache, int layer, int h, float[] q, float[] qSink, int len, float[] out, float[] att,
                AttentionProbe probe) {
        int hs = c.headSize();
        int kvDim = c.kvDim();
        int head = h / (c.heads() / c.kvHeads()) * hs;
        int qOff = h * hs;
        float scale = c.variant().attentionScale();
        float[] keys = cache.keys[layer];
        float[] values = cache.values[layer];
        int sinks = cache.sinkCount();
        int start = windowStart(layer, len);
        int first = cache.slot(start);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = start, slot = first; i < len; slot = cache.slotAfter(i, slot), i++) {
            float s = dot(i < sinks ? qSink : q, qOff, keys, slot * kvDim + head, hs) * scale;
            att[i] = s;
            max = Math.max(max, s);
        }
        float sum = 0;
        for (int i = start; i < len; i++) {
            att[i] = (float) Math.exp(att[i] - max);
            sum += att[i];
        }
        if (probe != null) {
            Arrays.fill(att, 0, start, 0f);
            probe.observe(layer, h, att, sum, len);
        }
        for (int i = start; i < len; i++) {
            att[i] /= sum;
        }
        weightedValues(cache, values, att, start, len, first, head, out, qOff);
    }

    /**
     * {@code out[qOff + j] = sum over positions i of att[i] * value_i[j]}, the positions in order from 0 (the scalar
     * loop's roundings): up to four vectors of {@code out} stay in registers while the positions stream past, and
     * the cache walks its slots without a division per position (this loop and the scores took 13-15% of a 110M
     * model's decode at 100 positions when it divided and stored {@code out} per position).
     */
    private void weightedValues(KvCache cache, float[] values, float[] att, int start, int len, int first, int head,
                                float[] out, int qOff) {
        int hs = c.headSize();
        int kvDim = c.kvDim();
        int lanes = F.length();
        int upper = F.loopBound(hs);
        int j = 0;
        for (; j + 4 * lanes <= upper; j += 4 * lanes) {
            FloatVector o0 = FloatVector.zero(F);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (int i = start, slot = first; i < len; slot = cache.slotAfter(i, slot), i++) {
                float a = att[i];
                int v = slot * kvDim + head + j;
                o0 = o0.add(FloatVector.fromArray(F, values, v).mul(a));
                o1 = o1.add(FloatVector.fromArray(F, values, v + lanes).mul(a));
                o2 = o2.add(FloatVector.fromArray(F, values, v + 2 * lanes).mul(a));
                o3 = o3.add(FloatVector.fromArray(F, values, v + 3 * lanes).mul(a));
            }
            o0.intoArray(out, qOff + j);
            o1.intoArray(out, qOff + j + lanes);
            o2.intoArray(out, qOff + j + 2 * lanes);
            o3.intoArray(out, qOff + j + 3 * lanes);
        }
        for (; j < upper; j += lanes) {
            FloatVector o = FloatVector.zero(F);
            for (int i = start, slot = first; i < len; slot = cache.slotAfter(i, slot), i++) {
                o = o.add(FloatVector.fromArray(F, values, slot * kvDim + head + j).mul(att[i]));
            }
            o.intoArray(out, qOff + j);
        }
        if (j < hs) { // fewer values than a vector (stories260K's heads of 8): position by position
            Arrays.fill(out, qOff + j, qOff + hs, 0f);
            for (int i = start, slot = first; i < len; slot = cache.slotAfter(i, slot), i++) {
                float a = att[i];
                int v = slot * kvDim + head;
                for (int k = j; k < hs; k++) {
                    out[qOff + k] += a * values[v + k];
                }
            }
        }
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int upper = F.loopBound(n);
        float s = 0;
        int i = 0;
        if (upper > 0) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < upper; i += F.length()) {
                acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
