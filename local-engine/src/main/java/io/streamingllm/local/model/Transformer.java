package io.streamingllm.local.model;

import io.streamingllm.local.tensor.MatMul;
import io.streamingllm.local.tensor.QuantizedActivations;
import io.streamingllm.local.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The forward pass of a llama-family decoder (llama, qwen2): RMSNorm, attention with RoPE and
 * grouped-query heads over a {@link KvCache}, SwiGLU feed-forward, tied or separate output head.
 * Not thread-safe: one forward pass at a time per instance (its scratch buffers are reused).
 */
public final class Transformer {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final ModelConfig c;
    private final Weights w;
    private final MatMul mm;
    private final double[] invFreq; // RoPE angle per position for each rotated pair

    /** Tokens per prefill chunk: enough to reuse each weight row many times, small enough for the cache. */
    static final int PREFILL_CHUNK = 64;

    // single-token scratch
    private final float[] x, xb, xb2, q, k, v, hb, hb2, logits, qSink;
    private final float[] lastHidden; // normalised hidden state after the last prefill chunk
    private final QuantizedActivations xbq, hbq, xq; // xb, hb and x as the integer kernels take them
    private float[][] att; // [head][cache position]
    private AttentionProbe probe;

    /**
     * Sees the attention weights of each layer and head during {@link #forward} (not during prefill), for
     * analysis such as how much attention the first tokens receive. Called from the forward pass's
     * worker threads, one call per (layer, head).
     */
    public interface AttentionProbe {
        /** Weight of cache position i is {@code weights[i] / sum}, for i in 0..len-1. */
        void observe(int layer, int head, float[] weights, float sum, int len);
    }

    public Transformer(ModelConfig c, Weights w, MatMul mm) {
        this.c = c;
        this.w = w;
        this.mm = mm;
        this.invFreq = new double[c.ropeDims() / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = Math.pow(c.ropeTheta(), -2.0 * i / c.ropeDims()) / c.ropeFreqScale()[i];
        }
        x = new float[c.dim()];
        xb = new float[Math.max(c.dim(), c.qDim())];
        xb2 = new float[c.dim()];
        q = new float[c.qDim()];
        qSink = new float[c.qDim()];
        k = new float[c.kvDim()];
        v = new float[c.kvDim()];
        hb = new float[c.hiddenDim()];
        hb2 = new float[c.hiddenDim()];
        logits = new float[c.vocabSize()];
        lastHidden = new float[c.dim()];
        xbq = new QuantizedActivations(xb.length);
        hbq = new QuantizedActivations(hb.length);
        xq = new QuantizedActivations(c.dim());
        att = new float[c.heads()][0];
    }

    public ModelConfig config() {
        return c;
    }

    /** Installs (or with null removes) the probe that sees single-token attention weights. */
    public void setAttentionProbe(AttentionProbe probe) {
        this.probe = probe;
    }

    /**
     * Appends {@code token} to the cache and returns the next-token logits (a buffer reused by the next
     * call). A full dense cache throws {@link IllegalStateException}.
     */
    public float[] forward(KvCache cache, int token) {
        checkToken(token);
        long pos = cache.nextPosition();
        int slot = cache.reserve(1)[0];
        int len = cache.length();
        ensureAtt(cache.capacity());
        w.tokenEmbedding().copyTo((long) token * c.dim(), x, 0, c.dim());
        for (int l = 0; l < c.layers(); l++) {
            rmsnorm(xb, x, w.attnNorm()[l], c.dim());
            xbq.set(xb, c.dim());
            mm.matmul(w.wq()[l], xbq, q, c.qDim(), c.dim());
            mm.matmul(w.wk()[l], xbq, k, c.kvDim(), c.dim());
            mm.matmul(w.wv()[l], xbq, v, c.kvDim(), c.dim());
            addBias(q, w.qBias()[l]);
            addBias(k, w.kBias()[l]);
            addBias(v, w.vBias()[l]);
            float[] sinkQuery = q;
            if (cache.evicted() && cache.sinkCount() > 0) {
                System.arraycopy(q, 0, qSink, 0, q.length);
                rope(qSink, c.heads(), len - 1);
                sinkQuery = qSink;
            }
            rope(q, c.heads(), pos);
            rope(k, c.kvHeads(), pos);
            System.arraycopy(k, 0, cache.keys[l], slot * c.kvDim(), c.kvDim());
            System.arraycopy(v, 0, cache.values[l], slot * c.kvDim(), c.kvDim());
            final int layer = l;
            final float[] qs = sinkQuery;
            final AttentionProbe p = probe;
            mm.forRows(c.heads(), (long) c.heads() * len * c.headSize() * 4, (from, to) -> {
                for (int h = from; h < to; h++) {
                    attend(cache, layer, h, q, qs, len, xb, att[h], p);
                }
            });
            mm.matmul(w.wo()[l], xbq.set(xb, c.qDim()), xb2, c.dim(), c.qDim());
            add(x, xb2);
            ffn(l, x);
        }
        rmsnorm(x, x, w.outputNorm(), c.dim());
        mm.matmul(w.output(), xq.set(x, c.dim()), logits, c.vocabSize(), c.dim());
        return logits;
    }

    /**
     * Appends {@code tokens} and returns the logits after the last one (null when {@code withLogits} is
     * false). Each weight matrix is read once per chunk of tokens rather than once per token. Chunks are
     * at most {@link KvCache#maxBatch()} tokens; a streaming cache evicts for a whole chunk before it.
     */
    public float[] prefill(KvCache cache, int[] tokens, boolean withLogits) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("nothing to prefill");
        }
        for (int t : tokens) {
            checkToken(t);
        }
        int done = 0;
        while (done < tokens.length) {
            int n = Math.min(Math.min(tokens.length - done, cache.maxBatch()), PREFILL_CHUNK);
            if (n < 1) {
                cache.reserve(1); // throws the "cache full" error
            }
            if (n == 1) {
                float[] out = forward(cache, tokens[done]);
                done++;
                if (done == tokens.length) {
                    return withLogits ? out : null;
                }
                continue;
            }
            prefillChunk(cache, tokens, done, n);
            done += n;
        }
        if (!withLogits) {
            return null;
        }
        mm.matmul(w.output(), lastHidden, logits, c.vocabSize(), c.dim()); // float activations, as the chunk
        return logits;
    }

    private void prefillChunk(KvCache cache, int[] tokens, int from, int n) {
        long pos0 = cache.nextPosition();
        int[] slots = cache.reserve(n);
        int len = cache.length();
        int len0 = len - n; // cache positions of the chunk: len0 .. len-1
        boolean evicted = cache.evicted();
        ensureAtt(cache.capacity());
        float[][] bx = new float[n][c.dim()], bxb = new float[n][Math.max(c.dim(), c.qDim())], bxb2 = new float[n][c.dim()];
        float[][] bq = new float[n][c.qDim()], bqs = evicted ? new float[n][c.qDim()] : bq;
        float[][] bk = new float[n][c.kvDim()], bv = new float[n][c.kvDim()];
        float[][] bhb = new float[n][c.hiddenDim()], bhb2 = new float[n][c.hiddenDim()];
        float[][] batt = new float[n * c.heads()][cache.capacity()];
        for (int b = 0; b < n; b++) {
            w.tokenEmbedding().copyTo((long) tokens[from + b] * c.dim(), bx[b], 0, c.dim());
        }
        for (int l = 0; l < c.layers(); l++) {
            for (int b = 0; b < n; b++) {
                rmsnorm(bxb[b], bx[b], w.attnNorm()[l], c.dim());
            }
            mm.matmul(w.wq()[l], bxb, bq, n, c.qDim(), c.dim());
            mm.matmul(w.wk()[l], bxb, bk, n, c.kvDim(), c.dim());
            mm.matmul(w.wv()[l], bxb, bv, n, c.kvDim(), c.dim());
            for (int b = 0; b < n; b++) {
                addBias(bq[b], w.qBias()[l]);
                addBias(bk[b], w.kBias()[l]);
                addBias(bv[b], w.vBias()[l]);
                if (evicted) {
                    System.arraycopy(bq[b], 0, bqs[b], 0, c.qDim());
                    rope(bqs[b], c.heads(), len0 + b);
                }
                rope(bq[b], c.heads(), pos0 + b);
                rope(bk[b], c.kvHeads(), pos0 + b);
                System.arraycopy(bk[b], 0, cache.keys[l], slots[b] * c.kvDim(), c.kvDim());
                System.arraycopy(bv[b], 0, cache.values[l], slots[b] * c.kvDim(), c.kvDim());
            }
            final int layer = l;
            int heads = c.heads();
            mm.forRows(n * heads, (long) n * heads * len * c.headSize() * 4, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    int b = r / heads;
                    int h = r % heads;
                    attend(cache, layer, h, bq[b], bqs[b], len0 + b + 1, bxb[b], batt[r], null);
                }
            });
            mm.matmul(w.wo()[l], bxb, bxb2, n, c.dim(), c.qDim());
            for (int b = 0; b < n; b++) {
                add(bx[b], bxb2[b]);
                rmsnorm(bxb[b], bx[b], w.ffnNorm()[l], c.dim());
            }
            mm.matmul(w.wGate()[l], bxb, bhb, n, c.hiddenDim(), c.dim());
            mm.matmul(w.wUp()[l], bxb, bhb2, n, c.hiddenDim(), c.dim());
            for (int b = 0; b < n; b++) {
                swiglu(bhb[b], bhb2[b]);
            }
            mm.matmul(w.wDown()[l], bhb, bxb2, n, c.dim(), c.hiddenDim());
            for (int b = 0; b < n; b++) {
                add(bx[b], bxb2[b]);
            }
        }
        rmsnorm(lastHidden, bx[n - 1], w.outputNorm(), c.dim());
    }

    /**
     * One head's attention for the query at cache position {@code len-1}: scores against cache positions
     * 0..len-1 (sinks with {@code qSink}, the rest with {@code q}, see {@link KvCache}), softmax, and the
     * weighted sum of values into {@code out[h*headSize ..]}.
     */
    private void attend(KvCache cache, int layer, int h, float[] q, float[] qSink, int len, float[] out, float[] att,
                        AttentionProbe probe) {
        int hs = c.headSize();
        int kvh = h / (c.heads() / c.kvHeads());
        int qOff = h * hs;
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] keys = cache.keys[layer];
        float[] values = cache.values[layer];
        int sinks = cache.sinkCount();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            int kOff = cache.slot(i) * c.kvDim() + kvh * hs;
            float s = dot(i < sinks ? qSink : q, qOff, keys, kOff, hs) * scale;
            att[i] = s;
            max = Math.max(max, s);
        }
        float sum = 0;
        for (int i = 0; i < len; i++) {
            att[i] = (float) Math.exp(att[i] - max);
            sum += att[i];
        }
        if (probe != null) {
            probe.observe(layer, h, att, sum, len);
        }
        Arrays.fill(out, qOff, qOff + hs, 0f);
        for (int i = 0; i < len; i++) {
            int vOff = cache.slot(i) * c.kvDim() + kvh * hs;
            float a = att[i] / sum;
            for (int j = 0; j < hs; j++) {
                out[qOff + j] += a * values[vOff + j];
            }
        }
    }

    private void ffn(int l, float[] x) {
        rmsnorm(xb, x, w.ffnNorm()[l], c.dim());
        xbq.set(xb, c.dim());
        mm.matmul(w.wGate()[l], xbq, hb, c.hiddenDim(), c.dim());
        mm.matmul(w.wUp()[l], xbq, hb2, c.hiddenDim(), c.dim());
        swiglu(hb, hb2);
        mm.matmul(w.wDown()[l], hbq.set(hb, c.hiddenDim()), xb2, c.dim(), c.hiddenDim());
        add(x, xb2);
    }

    /** Rotates each head of {@code vec} by {@code pos}: pairs (2i, 2i+1), or (i, i+d/2) for NEOX. */
    void rope(float[] vec, int heads, long pos) {
        int hs = c.headSize();
        int half = c.ropeDims() / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
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

    private void rmsnorm(float[] out, float[] in, float[] weight, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += in[i] * in[i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + c.rmsEps()));
        for (int i = 0; i < n; i++) {
            out[i] = weight[i] * (inv * in[i]);
        }
    }

    private static void swiglu(float[] gate, float[] up) {
        for (int i = 0; i < gate.length; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    private static void addBias(float[] v, float[] bias) {
        if (bias != null) {
            add(v, bias);
        }
    }

    private static void add(float[] a, float[] b) {
        for (int i = 0; i < b.length; i++) {
            a[i] += b[i];
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

    private void ensureAtt(int capacity) {
        if (att[0].length < capacity) {
            att = new float[c.heads()][capacity];
        }
    }

    private void checkToken(int token) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + c.vocabSize());
        }
    }
}
