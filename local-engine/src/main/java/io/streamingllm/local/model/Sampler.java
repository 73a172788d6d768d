package io.streamingllm.local.model;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy when temperature is 0, else softmax at the temperature,
 * restricted to the {@code topK} most likely tokens (0 = all) and then to the smallest set whose
 * probability reaches {@code topP} (1 = all), drawn with a seeded generator (same seed, same logits →
 * same tokens).
 *
 * <p>Candidates rank by logit, the lower id first on ties, and the draw walks them best first, so a seed
 * draws what a full sort of the vocabulary would. Only the candidates that can be drawn are ranked:
 * top-k keeps a bounded heap of {@code topK} ids over one pass (O(n log k)); top-p alone heaps only the
 * tokens above half of {@code (1 - topP) / n} in probability (the n - r tokens from a nucleus token's
 * rank r on carry a mass above {@code 1 - topP}, and it is the heaviest of them) and ranks them until
 * the mass reaches {@code topP} (its normaliser sums in id order, not rank order: a draw could only
 * differ where the running mass rounds across {@code topP}). With neither cut nothing is ranked and the
 * draw walks the vocabulary in id order: the same distribution, but not the tokens a seed drew when it walked the
 * sorted vocabulary. Buffers are sized to the vocabulary on the first call, so sampling a token
 * allocates nothing.
 *
 * <p>Not thread-safe: one generation at a time uses a sampler.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final SplittableRandom random;
    private double[] weight = new double[0]; // by token id: exp((logit - max) / temperature), for the tokens weighed
    private int[] ranked = new int[0];       // candidate ids, best first once ranked
    private int[] heap = new int[0];         // the nucleus candidates still to rank

    public Sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 0);
    }

    public int sample(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        int n = logits.length;
        if (weight.length < n) {
            weight = new double[n];
            ranked = new int[n];
            heap = new int[n];
        }
        if (topK > 0 && topK < n) {
            return sampleTopK(logits, topK);
        }
        return topP < 1 ? sampleNucleus(logits) : sampleAll(logits);
    }

    private int sampleTopK(float[] logits, int k) {
        selectTopK(logits, k);
        double max = logits[ranked[0]];
        double sum = 0;
        for (int r = 0; r < k; r++) {
            int t = ranked[r];
            weight[t] = Math.exp((logits[t] - max) / temperature);
            sum += weight[t];
        }
        int cut = k;
        if (topP < 1) {
            double mass = 0;
            for (int r = 0; r < k; r++) {
                mass += weight[ranked[r]] / sum;
                if (mass >= topP) {
                    cut = r + 1;
                    break;
                }
            }
        }
        return draw(cut);
    }

    /** {@code ranked[0..k)} becomes the k best ids, best first: a heap with the worst at its root, then sorted. */
    private void selectTopK(float[] logits, int k) {
        for (int t = 0; t < k; t++) {
            ranked[t] = t;
            siftUp(logits, ranked, t, false);
        }
        for (int t = k; t < logits.length; t++) {
            if (better(logits, t, ranked[0])) {
                ranked[0] = t;
                siftDown(logits, ranked, 0, k, false);
            }
        }
        for (int end = k - 1; end > 0; end--) { // each step moves the worst left in the heap to its final place
            swap(ranked, 0, end);
            siftDown(logits, ranked, 0, end, false);
        }
    }

    private int sampleNucleus(float[] logits) {
        int n = logits.length;
        double max = logits[best(logits)];
        double sum = 0;
        for (int t = 0; t < n; t++) {
            weight[t] = Math.exp((logits[t] - max) / temperature);
            sum += weight[t];
        }
        // half the bound leaves a wide margin for the rounding of the running mass below
        double floor = sum * (1 - topP) / (2.0 * n);
        int size = 0;
        for (int t = 0; t < n; t++) {
            if (weight[t] > floor) {
                heap[size++] = t;
            }
        }
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(logits, heap, i, size, true);
        }
        int cut = 0;
        double mass = 0;
        while (size > 0) {
            int t = heap[0];
            ranked[cut++] = t;
            heap[0] = heap[--size];
            siftDown(logits, heap, 0, size, true);
            mass += weight[t] / sum;
            if (mass >= topP) {
                break;
            }
        }
        return draw(cut);
    }

    /** A draw among {@code ranked[0..cut)} in proportion to their weights. */
    private int draw(int cut) {
        double total = 0;
        for (int r = 0; r < cut; r++) {
            total += weight[ranked[r]];
        }
        double x = random.nextDouble() * total;
        for (int r = 0; r < cut; r++) {
            x -= weight[ranked[r]];
            if (x < 0) {
                return ranked[r];
            }
        }
        return ranked[cut - 1];
    }

    private int sampleAll(float[] logits) {
        int n = logits.length;
        double max = logits[best(logits)];
        double total = 0;
        for (int t = 0; t < n; t++) {
            weight[t] = Math.exp((logits[t] - max) / temperature);
            total += weight[t];
        }
        double x = random.nextDouble() * total;
        int last = 0;
        for (int t = 0; t < n; t++) {
            if (weight[t] > 0) {
                x -= weight[t];
                if (x < 0) {
                    return t;
                }
                last = t;
            }
        }
        return last;
    }

    /** The first id in rank order (NaN ranks above every number, as in {@link Float#compare}). */
    private static int best(float[] logits) {
        int best = 0;
        for (int t = 1; t < logits.length; t++) {
            if (better(logits, t, best)) {
                best = t;
            }
        }
        return best;
    }

    /** Whether token a ranks before token b: a higher logit, or the same logit and a lower id. */
    private static boolean better(float[] logits, int a, int b) {
        int c = Float.compare(logits[a], logits[b]);
        return c > 0 || (c == 0 && a < b);
    }

    /** Restores the heap order upwards from {@code i}; {@code bestOnTop} picks a max- or a min-heap by rank. */
    private static void siftUp(float[] logits, int[] h, int i, boolean bestOnTop) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (better(logits, h[i], h[parent]) != bestOnTop) {
                return;
            }
            swap(h, i, parent);
            i = parent;
        }
    }

    private static void siftDown(float[] logits, int[] h, int i, int size, boolean bestOnTop) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                return;
            }
            if (child + 1 < size && better(logits, h[child + 1], h[child]) == bestOnTop) {
                child++;
            }
            if (better(logits, h[child], h[i]) != bestOnTop) {
                return;
            }
            swap(h, i, child);
            i = child;
        }
    }

    private static void swap(int[] a, int i, int j) {
        int x = a[i];
        a[i] = a[j];
        a[j] = x;
    }

    /** The highest logit's id, the lowest id on ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Softmax of logits (float64), for probability checks and evaluation. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
