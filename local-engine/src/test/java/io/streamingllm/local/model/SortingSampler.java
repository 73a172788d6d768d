package io.streamingllm.local.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The sampler as it was before it stopped allocating: boxes and sorts the whole vocabulary for every
 * token. Kept as the reference the allocation-free {@link Sampler} must match draw for draw.
 */
final class SortingSampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final SplittableRandom random;

    SortingSampler(float temperature, int topK, float topP, long seed) {
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    int sample(float[] logits) {
        if (temperature == 0) {
            return Sampler.argmax(logits);
        }
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = topK == 0 ? n : Math.min(topK, n);
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / temperature);
            sum += p[i];
        }
        int cut = keep;
        if (topP < 1) {
            double acc = 0;
            for (int i = 0; i < keep; i++) {
                acc += p[i] / sum;
                if (acc >= topP) {
                    cut = i + 1;
                    break;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < cut; i++) {
            total += p[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < cut; i++) {
            r -= p[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[cut - 1];
    }
}
