package io.streamingllm.local.eval;

import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.model.Transformer;

/**
 * How much attention the first tokens of the cache receive — the "attention sink" the paper finds in
 * every layer above the first two of large models. For each layer and head it averages, over the
 * measured tokens, the softmax weight on cache positions {@code 0..first-1}, the weight that a uniform
 * distribution would give them ({@code first/len}), and the weight on the most recent BOS still in the
 * cache (each sampled story starts with one, so in a stream of stories it is a candidate sink inside
 * the recent window).
 */
public final class AttentionMass implements Transformer.AttentionProbe {
    /** Per layer and head means over the measured tokens. */
    public record Result(int first, int tokens, double[][] firstMass, double[][] uniformMass, double[][] bosMass) {
        public double layerMean(double[][] m, int layer) {
            double s = 0;
            for (double v : m[layer]) {
                s += v;
            }
            return s / m[layer].length;
        }
    }

    private final KvCache cache;
    private final int first;
    private final double[][] firstSum, uniformSum, bosSum;
    private boolean active;
    private long latestBos = -1; // stream index of the latest BOS appended
    private int tokens;

    private AttentionMass(ModelConfig c, KvCache cache, int first) {
        this.cache = cache;
        this.first = first;
        firstSum = new double[c.layers()][c.heads()];
        uniformSum = new double[c.layers()][c.heads()];
        bosSum = new double[c.layers()][c.heads()];
    }

    /**
     * Feeds {@code stream[0..to)} through {@code cache} (which must start empty) and averages the attention
     * of the tokens at stream positions {@code from..to-1}.
     */
    public static Result measure(Transformer transformer, KvCache cache, int[] stream, int bos, int first, int from, int to) {
        if (cache.nextPosition() != 0) {
            throw new IllegalArgumentException("the cache must start empty");
        }
        AttentionMass probe = new AttentionMass(transformer.config(), cache, first);
        transformer.setAttentionProbe(probe);
        try {
            for (int t = 0; t < Math.min(to, stream.length); t++) {
                if (stream[t] == bos) {
                    probe.latestBos = t;
                }
                probe.active = t >= from;
                transformer.forward(cache, stream[t]);
                if (probe.active) {
                    probe.tokens++;
                }
            }
        } finally {
            transformer.setAttentionProbe(null);
        }
        return probe.result();
    }

    @Override
    public void observe(int layer, int head, float[] weights, float sum, int len) {
        if (!active) {
            return;
        }
        double f = 0;
        int k = Math.min(first, len);
        for (int i = 0; i < k; i++) {
            f += weights[i];
        }
        firstSum[layer][head] += f / sum;
        uniformSum[layer][head] += (double) k / len;
        int bosPos = cachePosition(latestBos);
        if (bosPos >= 0) {
            bosSum[layer][head] += weights[bosPos] / sum;
        }
    }

    /** Cache position of stream index {@code j}, or -1 when it is not held. */
    private int cachePosition(long j) {
        if (j < 0) {
            return -1;
        }
        int sinks = cache.sinkCount();
        if (j < sinks) {
            return (int) j;
        }
        long p = j - (cache.nextPosition() - cache.length());
        return p >= sinks && p < cache.length() ? (int) p : -1;
    }

    private Result result() {
        int layers = firstSum.length, heads = firstSum[0].length;
        double[][] f = new double[layers][heads], u = new double[layers][heads], b = new double[layers][heads];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                f[l][h] = firstSum[l][h] / Math.max(1, tokens);
                u[l][h] = uniformSum[l][h] / Math.max(1, tokens);
                b[l][h] = bosSum[l][h] / Math.max(1, tokens);
            }
        }
        return new Result(first, tokens, f, u, b);
    }
}
