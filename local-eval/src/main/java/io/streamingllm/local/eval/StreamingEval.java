package io.streamingllm.local.eval;

import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.model.Sampler;
import io.streamingllm.local.model.Transformer;
import java.util.Arrays;

/**
 * The four attention modes of the StreamingLLM paper over one token stream: for each position the
 * negative log-likelihood of the stream's next token and the time to get its logits.
 * <ul>
 * <li><b>dense</b>: one cache that never evicts; positions keep growing past the trained context.</li>
 * <li><b>window</b>: the last {@code L} tokens only (a streaming cache with no sinks).</li>
 * <li><b>streaming</b>: {@code S} sinks + the last {@code L - S} tokens, positions within the cache.</li>
 * <li><b>recompute</b>: sliding window with re-computation: for each evaluated token a fresh cache
 * prefilled with the last {@code L} tokens of the stream (the token itself included) — the quality
 * reference, at O(L) forward steps per token. Evaluated every {@code stride}-th token.</li>
 * </ul>
 * In every mode the logits at position {@code t} come from a context of at most {@code L} tokens ending
 * with token {@code t} (dense: all of {@code 0..t}).
 */
public final class StreamingEval {
    private final Transformer transformer;
    private final ModelConfig config;

    public StreamingEval(Transformer transformer) {
        this.transformer = transformer;
        this.config = transformer.config();
    }

    /**
     * One mode's figures. {@code nll[t]} is −log p(stream[t+1] | context ending at t) in nats, NaN where
     * the mode was not evaluated; {@code nanos[t]} the time to compute those logits (0 where NaN).
     */
    public record Run(String name, String mode, int cacheSize, int sinks, double[] nll, long[] nanos) {
    }

    /**
     * Stories sampled from BOS and concatenated, {@code length} tokens in all. Each story starts with
     * {@code bos}; sampling (softmax at {@code temperature}, nucleus {@code topP}, one generator seeded
     * with {@code seed} for the whole stream) continues until the model samples BOS or EOS (neither is
     * appended; the next story's BOS follows) or the story reaches {@code maxStoryTokens} tokens, BOS
     * included. Each story runs in a fresh dense cache, so it stays within the trained context when
     * {@code maxStoryTokens} does.
     */
    public static int[] sampleStories(Transformer transformer, int length, int bos, int eos, long seed,
                                      float temperature, float topP, int maxStoryTokens) {
        if (length < 2 || maxStoryTokens < 2) {
            throw new IllegalArgumentException("need a stream of at least 2 tokens and stories of at least 2");
        }
        Sampler sampler = new Sampler(temperature, 0, topP, seed);
        KvCache cache = KvCache.dense(transformer.config(), maxStoryTokens);
        int[] stream = new int[length];
        int n = 0;
        while (n < length) {
            cache.clear();
            stream[n++] = bos;
            int token = bos;
            for (int k = 1; k < maxStoryTokens && n < length; k++) {
                int next = sampler.sample(transformer.forward(cache, token));
                if (next == bos || next == eos) {
                    break;
                }
                stream[n++] = next;
                token = next;
            }
        }
        return stream;
    }

    public Run dense(int[] stream) {
        return cached("dense", "dense", KvCache.dense(config, stream.length), 0, 0, stream);
    }

    public Run window(int cacheSize, int[] stream) {
        return cached("window L=" + cacheSize, "window", KvCache.window(config, cacheSize), cacheSize, 0, stream);
    }

    public Run streaming(int cacheSize, int sinks, int[] stream) {
        return cached("streaming L=" + cacheSize + " S=" + sinks, "streaming",
                KvCache.streaming(config, sinks, cacheSize - sinks), cacheSize, sinks, stream);
    }

    /** Feeds the stream token by token through {@code cache}. */
    public Run cached(String name, String mode, KvCache cache, int cacheSize, int sinks, int[] stream) {
        int n = stream.length - 1;
        double[] nll = new double[n];
        long[] nanos = new long[n];
        for (int t = 0; t < n; t++) {
            long t0 = System.nanoTime();
            float[] logits = transformer.forward(cache, stream[t]);
            nanos[t] = System.nanoTime() - t0;
            nll[t] = nll(logits, stream[t + 1]);
        }
        return new Run(name, mode, cacheSize, sinks, nll, nanos);
    }

    /** Sliding window with re-computation at positions {@code t ≡ stride−1 (mod stride)}. */
    public Run recompute(int cacheSize, int[] stream, int stride) {
        if (stride < 1) {
            throw new IllegalArgumentException("stride must be at least 1, got " + stride);
        }
        int n = stream.length - 1;
        double[] nll = new double[n];
        long[] nanos = new long[n];
        Arrays.fill(nll, Double.NaN);
        KvCache cache = KvCache.dense(config, cacheSize);
        for (int t = stride - 1; t < n; t += stride) {
            int from = Math.max(0, t - cacheSize + 1);
            int[] context = Arrays.copyOfRange(stream, from, t + 1);
            long t0 = System.nanoTime();
            cache.clear();
            float[] logits = transformer.prefill(cache, context, true);
            nanos[t] = System.nanoTime() - t0;
            nll[t] = nll(logits, stream[t + 1]);
        }
        String name = "recompute L=" + cacheSize + (stride > 1 ? " (every " + stride + ")" : "");
        return new Run(name, "recompute", cacheSize, 0, nll, nanos);
    }

    /** −log softmax(logits)[target], in float64. */
    public static double nll(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return Math.log(sum) + max - logits[target];
    }

    /** Mean of the non-NaN values of {@code v[from..to)}, NaN when there are none. */
    public static double mean(double[] v, int from, int to) {
        double s = 0;
        int k = 0;
        for (int i = Math.max(0, from); i < Math.min(v.length, to); i++) {
            if (!Double.isNaN(v[i])) {
                s += v[i];
                k++;
            }
        }
        return k == 0 ? Double.NaN : s / k;
    }

    /** Mean of {@code nanos[i]} over the positions where {@code nll[i]} is not NaN, in microseconds. */
    public static double meanMicros(Run run, int from, int to) {
        double s = 0;
        int k = 0;
        for (int i = Math.max(0, from); i < Math.min(run.nll().length, to); i++) {
            if (!Double.isNaN(run.nll()[i])) {
                s += run.nanos()[i];
                k++;
            }
        }
        return k == 0 ? Double.NaN : s / k / 1000.0;
    }

    /** Median of {@code nanos[i]} over the evaluated positions in {@code from..to-1}, in microseconds. */
    public static double medianMicros(Run run, int from, int to) {
        long[] v = new long[Math.max(0, Math.min(run.nll().length, to) - Math.max(0, from))];
        int k = 0;
        for (int i = Math.max(0, from); i < Math.min(run.nll().length, to); i++) {
            if (!Double.isNaN(run.nll()[i])) {
                v[k++] = run.nanos()[i];
            }
        }
        if (k == 0) {
            return Double.NaN;
        }
        Arrays.sort(v, 0, k);
        return (k % 2 == 1 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2.0) / 1000.0;
    }
}
