package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;
import java.util.ArrayList;
import java.util.List;

/**
 * A float64 forward pass written for clarity, not speed, following the paper's cache literally: keys
 * are kept BEFORE RoPE and, at every step, every held key is rotated by its cache slot (0..L-1) and the
 * query by L-1. With no eviction that is plain causal attention. Tokens beyond {@code startSize} sinks +
 * {@code recentSize} recent are evicted oldest-first; {@link #prefill} evicts for a whole chunk first.
 */
public final class ReferenceModel {
    private final RandomModel m;
    private final int startSize;
    private final int recentSize; // Integer.MAX_VALUE: dense
    private final List<List<double[]>> keys = new ArrayList<>();   // per layer, cache order, pre-RoPE
    private final List<List<double[]>> values = new ArrayList<>();
    private final GgmlType ggmlWeights; // null: exact arithmetic; else round as ggml's CPU backend does for them
    private final GgmlType activationWeights; // non-null: matrix products take activations rounded for this type

    public ReferenceModel(RandomModel m, int startSize, int recentSize) {
        this(m, startSize, recentSize, null, null);
    }

    private ReferenceModel(RandomModel m, int startSize, int recentSize, GgmlType ggmlWeights, GgmlType activationWeights) {
        this.m = m;
        this.startSize = startSize;
        this.recentSize = recentSize;
        this.ggmlWeights = ggmlWeights;
        this.activationWeights = activationWeights;
        for (int l = 0; l < m.layers; l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    public static ReferenceModel dense(RandomModel m) {
        return new ReferenceModel(m, 0, Integer.MAX_VALUE);
    }

    /**
     * Dense, with llama.cpp's CPU rounding on a model whose matrices are of {@code weights} type: every
     * matrix-vector product first converts the activation vector to ggml's {@code vec_dot_type} for that
     * weight type ({@link GgmlRounding#activations}), RMSNorm, products, adds and SwiGLU are rounded to float32
     * as ggml keeps them, and attention is ggml's CPU flash attention over llama.cpp's default F16 KV cache
     * (keys after RoPE and values stored as f16, see {@link #flashAttention}).
     * Only dense: eviction re-rotates keys, which llama.cpp's cache does differently.
     */
    public static ReferenceModel llamaCppDense(RandomModel m, GgmlType weights) {
        return new ReferenceModel(m, 0, Integer.MAX_VALUE, weights, weights);
    }

    /**
     * Dense and exact (float64, exact attention) except that every matrix product first rounds its activation
     * vector to the weight type's 8-bit blocks ({@link GgmlRounding#activations}): what the engine's integer
     * kernels compute for quantised weights.
     */
    public static ReferenceModel quantisedActivationsDense(RandomModel m, GgmlType weights) {
        return new ReferenceModel(m, 0, Integer.MAX_VALUE, null, weights.blockSize() > 1 ? weights : null);
    }

    public int length() {
        return keys.get(0).size();
    }

    /** Evicts for one token, runs it, returns its next-token logits. */
    public double[] step(int token) {
        evictFor(1);
        return run(token);
    }

    /** The engine's chunked prefill: chunks of min(remaining, max(recent, free), 64), eviction before each. */
    public double[] prefill(int[] tokens) {
        double[] out = null;
        int done = 0;
        while (done < tokens.length) {
            int free = recentSize == Integer.MAX_VALUE ? Integer.MAX_VALUE : startSize + recentSize - length();
            int n = Math.min(Math.min(tokens.length - done, Math.max(recentSize, free)), 64);
            evictFor(n);
            for (int i = 0; i < n; i++) {
                out = run(tokens[done + i]);
            }
            done += n;
        }
        return out;
    }

    private void evictFor(int n) {
        if (recentSize == Integer.MAX_VALUE) {
            return;
        }
        int overflow = length() + n - (startSize + recentSize);
        for (int i = 0; i < overflow; i++) {
            for (int l = 0; l < m.layers; l++) {
                keys.get(l).remove(startSize);
                values.get(l).remove(startSize);
            }
        }
    }

    private double[] run(int token) {
        int dim = m.dim, hs = m.headSize, kvDim = m.kvHeads * hs;
        double[] x = new double[dim];
        double embeddingScale = m.gemma() ? f32((float) Math.sqrt(dim)) : 1;
        for (int i = 0; i < dim; i++) {
            x[i] = m.embedding[token * dim + i] * embeddingScale;
        }
        for (int l = 0; l < m.layers; l++) {
            double[] xn = rmsnorm(x, m.attnNorm[l]);
            double[] q = headNorms(add(matvec(m.wq[l], xn, m.heads * hs), m.qBias[l]), m.heads, m.qNorm[l]);
            double[] k = headNorms(add(matvec(m.wk[l], xn, kvDim), m.kBias[l]), m.kvHeads, m.kNorm[l]);
            double[] v = add(matvec(m.wv[l], xn, kvDim), m.vBias[l]);
            keys.get(l).add(k);
            values.get(l).add(v);
            int len = keys.get(l).size();
            double theta = m.sliding(l) ? 10000 : m.theta;
            int start = m.sliding(l) ? Math.max(0, len - RandomModel.GEMMA3_WINDOW) : 0; // the layer's window
            double[] qr = f16(rope(q, m.heads, len - 1, theta));
            List<double[]> rotated = new ArrayList<>();
            for (int i = 0; i < len; i++) {
                rotated.add(i < start ? null : f16(rope(keys.get(l).get(i), m.kvHeads, i, theta)));
            }
            double[] att = new double[m.heads * hs];
            for (int h = 0; h < m.heads; h++) {
                if (ggmlWeights != null) {
                    flashAttention(qr, rotated, values.get(l), h, h / (m.heads / m.kvHeads), start, att);
                    continue;
                }
                int kvh = h / (m.heads / m.kvHeads);
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int i = start; i < len; i++) {
                    double d = 0;
                    for (int j = 0; j < hs; j++) {
                        d += qr[h * hs + j] * rotated.get(i)[kvh * hs + j];
                    }
                    s[i] = d / Math.sqrt(hs);
                    max = Math.max(max, s[i]);
                }
                double sum = 0;
                for (int i = start; i < len; i++) {
                    s[i] = Math.exp(s[i] - max);
                    sum += s[i];
                }
                for (int i = start; i < len; i++) {
                    for (int j = 0; j < hs; j++) {
                        att[h * hs + j] += s[i] / sum * values.get(l).get(i)[kvh * hs + j];
                    }
                }
            }
            x = add(x, postNorm(matvec(m.wo[l], att, dim), m.attnPostNorm[l]));
            double[] xf = rmsnorm(x, m.ffnNorm[l]);
            double[] g = matvec(m.gate[l], xf, m.hidden);
            double[] u = matvec(m.up[l], xf, m.hidden);
            for (int i = 0; i < m.hidden; i++) {
                double a = m.gemma() // GELU, tanh approximation
                        ? 0.5 * g[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g[i] + 0.044715 * g[i] * g[i] * g[i])))
                        : g[i] / (1 + Math.exp(-g[i]));
                g[i] = f32(a * u[i]);
            }
            x = add(x, postNorm(matvec(m.down[l], g, dim), m.ffnPostNorm[l]));
        }
        return matvec(m.output, rmsnorm(x, m.outputNorm), m.vocab);
    }

    /** RMSNorm of each head with the head-size weight (qwen3, gemma3); unchanged when the model has none. */
    private double[] headNorms(double[] v, int heads, float[] w) {
        if (w == null) {
            return v;
        }
        double[] out = new double[v.length];
        int hs = m.headSize;
        for (int h = 0; h < heads; h++) {
            double[] head = new double[hs];
            System.arraycopy(v, h * hs, head, 0, hs);
            System.arraycopy(rmsnorm(head, w), 0, out, h * hs, hs);
        }
        return out;
    }

    private double[] postNorm(double[] v, float[] w) {
        return w == null ? v : rmsnorm(v, w);
    }

    /**
     * ggml's CPU flash attention for one query head over an F16 cache (llama.cpp's default, "auto", turns it
     * on for the CPU): the query is converted to f16, scores are taken in order with an online softmax, and
     * the weighted sum of values is accumulated in an f16 vector, rescaled whenever a new maximum appears.
     */
    private void flashAttention(double[] q, List<double[]> keys, List<double[]> vals, int h, int kvh, int start,
                                double[] out) {
        int hs = m.headSize;
        float scale = (float) (1 / Math.sqrt(hs));
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        double[] acc = new double[hs];
        for (int i = start; i < keys.size(); i++) {
            double s = 0;
            for (int j = 0; j < hs; j++) {
                s += q[h * hs + j] * keys.get(i)[kvh * hs + j];
            }
            s = (float) s * scale;
            double ms = 1, vs = 1;
            if (s > max) {
                ms = Math.exp(max - s);
                max = s;
                for (int j = 0; j < hs; j++) {
                    acc[j] = GgmlRounding.f16(acc[j] * ms);
                }
            } else {
                vs = Math.exp(s - max);
            }
            for (int j = 0; j < hs; j++) {
                acc[j] = GgmlRounding.f16(acc[j] + GgmlRounding.f16(vals.get(i)[kvh * hs + j]) * vs);
            }
            sum = sum * ms + vs;
        }
        for (int j = 0; j < hs; j++) {
            out[h * hs + j] = acc[j] / sum;
        }
    }

    private double f16(double x) {
        return ggmlWeights == null ? x : GgmlRounding.f16(x);
    }

    private double[] f16(double[] x) {
        if (ggmlWeights == null) {
            return x;
        }
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = GgmlRounding.f16(x[i]);
        }
        return out;
    }

    private double[] rope(double[] v, int heads, int pos, double theta) {
        double[] out = v.clone();
        int hs = m.headSize, half = hs / 2;
        boolean neox = !m.arch.equals("llama");
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / hs);
                int a = h * hs + (neox ? i : 2 * i);
                int b = neox ? a + half : a + 1;
                out[a] = v[a] * Math.cos(angle) - v[b] * Math.sin(angle);
                out[b] = v[a] * Math.sin(angle) + v[b] * Math.cos(angle);
            }
        }
        return out;
    }

    private double[] rmsnorm(double[] x, float[] w) {
        if (ggmlWeights != null) {
            return ggmlRmsnorm(x, w);
        }
        if (activationWeights != null) {
            return engineRmsnorm(x, w);
        }
        double ss = 0;
        for (double d : x) {
            ss += d * d;
        }
        double inv = 1 / Math.sqrt(ss / x.length + m.eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * w[i];
        }
        return out;
    }

    /**
     * ggml's RMS_NORM then MUL in float32: squares in float summed in double, {@code scale = 1/sqrtf(mean + eps)}
     * in float, then {@code (x * scale) * w} in float. It matters only through the 8-bit activation rounding
     * that follows: a value within float32 noise of a rounding boundary (x.5 quant steps) goes the way
     * llama.cpp's float32 arithmetic sends it. With the exact float64 norm, the random Q8_0 llama model's first
     * layer had one such value (19.4999981 steps), rounded the other way, and llama.cpp's logits looked 0.08 off.
     */
    private double[] ggmlRmsnorm(double[] x, float[] w) {
        double sum = 0;
        for (double d : x) {
            float f = (float) d;
            sum += f * f;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / x.length) + m.eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) x[i] * scale * w[i];
        }
        return out;
    }

    /**
     * The engine's RMSNorm in float32 (squares in float summed in double, the scale in double then float,
     * {@code w * (scale * x)} in float): the 8-bit rounding that follows sends a value within float32 noise of a
     * rounding boundary the engine's way only if the inputs to it are rounded as the engine rounds them.
     */
    private double[] engineRmsnorm(double[] x, float[] w) {
        double ss = 0;
        for (double d : x) {
            float f = (float) d;
            ss += f * f;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / x.length + m.eps));
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = w[i] * (inv * (float) x[i]);
        }
        return out;
    }

    private double[] matvec(float[] w, double[] x0, int rows) {
        double[] x = activationWeights == null ? x0 : GgmlRounding.activations(activationWeights, x0);
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < x.length; c++) {
                s += w[r * x.length + c] * x[c];
            }
            out[r] = f32(s);
        }
        return out;
    }

    private double[] add(double[] a, float[] b) {
        if (b == null) {
            return a;
        }
        double[] out = a.clone();
        for (int i = 0; i < a.length; i++) {
            out[i] = f32(out[i] + b[i]);
        }
        return out;
    }

    private double[] add(double[] a, double[] b) {
        double[] out = a.clone();
        for (int i = 0; i < a.length; i++) {
            out[i] = f32(out[i] + b[i]);
        }
        return out;
    }

    /** ggml keeps every tensor in float32: matrix products, bias and residual adds, SwiGLU; exact mode keeps double. */
    private double f32(double x) {
        return ggmlWeights == null && activationWeights == null ? x : (float) x;
    }
}
