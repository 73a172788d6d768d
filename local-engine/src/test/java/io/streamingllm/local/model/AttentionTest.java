package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One head's attention against the plain loop it replaced, bit for bit: the weighted values run in vector registers
 * in whole groups of four vectors, single vectors and a scalar tail, so the head sizes cover each path at 8- and
 * 16-lane vectors, over a cache that has evicted (sinks, then a ring that wrapped) and one that has not.
 */
class AttentionTest {
    @ParameterizedTest
    @ValueSource(ints = {8, 16, 24, 48, 64, 80, 128})
    void equalsTheScalarSoftmaxAndWeightedSum(int hs) {
        float[] ropeScale = new float[hs / 2];
        Arrays.fill(ropeScale, 1f);
        ModelConfig c = new ModelConfig("llama", 2 * hs, 4 * hs, 1, 2, 1, hs, 10, 512, 1e-5f, 10000f, false, hs, ropeScale);
        Random r = new Random(hs);
        Attention attention = new Attention(c);
        KvCache streaming = KvCache.streaming(c, 2, 5);
        KvCache dense = KvCache.dense(c, 16);
        for (KvCache cache : new KvCache[] {streaming, dense}) {
            for (int t = 0; t < 11; t++) {
                int slot = cache.reserve(1)[0];
                for (int i = 0; i < c.kvDim(); i++) {
                    cache.keys[0][slot * c.kvDim() + i] = (float) r.nextGaussian();
                    cache.values[0][slot * c.kvDim() + i] = (float) r.nextGaussian();
                }
            }
            float[] q = gaussian(r, c.qDim());
            float[] qSink = gaussian(r, c.qDim());
            int len = cache.length();
            for (int h = 0; h < c.heads(); h++) {
                float[] out = new float[c.qDim()];
                attention.attend(cache, 0, h, q, qSink, len, out, new float[len], null);
                assertArrayEquals(scalar(c, cache, h, q, qSink, len), out, "head " + h + " of head size " + hs);
            }
        }
    }

    /** The loop as it was: scores, softmax, then out += (weight / sum) * value, position by position. */
    private static float[] scalar(ModelConfig c, KvCache cache, int h, float[] q, float[] qSink, int len) {
        int hs = c.headSize();
        int qOff = h * hs;
        float[] att = new float[len];
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            int k = cache.slot(i) * c.kvDim(); // one kv head
            att[i] = Attention.dot(i < cache.sinkCount() ? qSink : q, qOff, cache.keys[0], k, hs) * c.variant().attentionScale();
            max = Math.max(max, att[i]);
        }
        float sum = 0;
        for (int i = 0; i < len; i++) {
            att[i] = (float) Math.exp(att[i] - max);
            sum += att[i];
        }
        float[] out = new float[c.qDim()];
        for (int i = 0; i < len; i++) {
            float a = att[i] / sum;
            for (int j = 0; j < hs; j++) {
                out[qOff + j] += a * cache.values[0][cache.slot(i) * c.kvDim() + j];
            }
        }
        return out;
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
