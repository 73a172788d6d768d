package io.streamingllm.local.model;

import io.streamingllm.local.tensor.FloatTensor;
import io.streamingllm.local.tensor.MatMul;
import io.streamingllm.local.tensor.QuantizedActivations;
import io.streamingllm.local.tensor.VectorMath;

/**
 * The forward pass of a llama-family decoder: RMSNorm, attention with RoPE and grouped-query heads over a
 * {@link KvCache}, SwiGLU feed-forward, tied or separate output head; qwen2's q/k/v biases; qwen3's and
 * gemma3's per-head q/k RMSNorms before RoPE; gemma3's embeddings scaled by sqrt(dim), norms after the
 * attention and feed-forward blocks, GELU (tanh) feed-forward and sliding-window layers (see
 * {@link Attention}); soft-capped logits when the model has a cap.
 * Not thread-safe: one forward pass at a time per instance (its scratch buffers are reused).
 */
public final class Transformer {
    private static final float GELU_C = (float) Math.sqrt(2 / Math.PI);

    private final ModelConfig c;
    private final Weights w;
    private final MatMul mm;
    private final Attention attention;

    /** Tokens per prefill chunk: enough to reuse each weight row many times, small enough for the cache. */
    static final int PREFILL_CHUNK = 64;

    // single-token scratch
    private final float[] x, xb, xb2, q, k, v, hb, hb2, logits, qSink;
    private final float[][] qkv, gateUp; // the outputs of the products that share an activation vector
    private final FloatTensor[][] qkvWeights, gateUpWeights; // [layer]: their matrices, one parallel range each
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
        this.attention = new Attention(c);
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
        qkv = new float[][] {q, k, v};
        gateUp = new float[][] {hb, hb2};
        qkvWeights = new FloatTensor[c.layers()][];
        gateUpWeights = new FloatTensor[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            qkvWeights[l] = new FloatTensor[] {w.wq()[l], w.wk()[l], w.wv()[l]};
            gateUpWeights[l] = new FloatTensor[] {w.wGate()[l], w.wUp()[l]};
        }
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
        embed(token, x);
        for (int l = 0; l < c.layers(); l++) {
            rmsnorm(xb, x, w.attnNorm()[l], c.dim());
            xbq.set(xb, c.dim());
            mm.matmul(qkvWeights[l], xbq, qkv, c.dim());
            addBias(q, w.qBias()[l]);
            addBias(k, w.kBias()[l]);
            addBias(v, w.vBias()[l]);
            headNorms(q, k, l);
            float[] sinkQuery = q;
            if (cache.evicted() && cache.sinkCount() > 0) {
                System.arraycopy(q, 0, qSink, 0, q.length);
                attention.rope(qSink, c.heads(), len - 1, l);
                sinkQuery = qSink;
            }
            attention.rope(q, c.heads(), pos, l);
            attention.rope(k, c.kvHeads(), pos, l);
            System.arraycopy(k, 0, cache.keys[l], slot * c.kvDim(), c.kvDim());
            System.arraycopy(v, 0, cache.values[l], slot * c.kvDim(), c.kvDim());
            final int layer = l;
            final float[] qs = sinkQuery;
            final AttentionProbe p = probe;
            mm.forRows(c.heads(), (long) c.heads() * len * c.headSize() * 4, (from, to) -> {
                for (int h = from; h < to; h++) {
                    attention.attend(cache, layer, h, q, qs, len, xb, att[h], p);
                }
            });
            mm.matmul(w.wo()[l], xbq.set(xb, c.qDim()), xb2, c.dim(), c.qDim());
            postNorm(xb2, w.attnPostNorm()[l]);
            add(x, xb2);
            ffn(l, x);
        }
        rmsnorm(x, x, w.outputNorm(), c.dim());
        mm.matmul(w.output(), xq.set(x, c.dim()), logits, c.vocabSize(), c.dim());
        softcap(logits);
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
        mm.matmul(w.output(), xq.set(lastHidden, c.dim()), logits, c.vocabSize(), c.dim());
        softcap(logits);
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
        QuantizedActivations[] bxbq = new QuantizedActivations[n], bhbq = new QuantizedActivations[n];
        for (int b = 0; b < n; b++) {
            embed(tokens[from + b], bx[b]);
            bxbq[b] = new QuantizedActivations(bxb[b].length);
            bhbq[b] = new QuantizedActivations(bhb[b].length);
        }
        for (int l = 0; l < c.layers(); l++) {
            for (int b = 0; b < n; b++) {
                rmsnorm(bxb[b], bx[b], w.attnNorm()[l], c.dim());
                bxbq[b].set(bxb[b], c.dim());
            }
            mm.matmul(w.wq()[l], bxbq, bq, n, c.qDim(), c.dim());
            mm.matmul(w.wk()[l], bxbq, bk, n, c.kvDim(), c.dim());
            mm.matmul(w.wv()[l], bxbq, bv, n, c.kvDim(), c.dim());
            for (int b = 0; b < n; b++) {
                addBias(bq[b], w.qBias()[l]);
                addBias(bk[b], w.kBias()[l]);
                addBias(bv[b], w.vBias()[l]);
                headNorms(bq[b], bk[b], l);
                if (evicted) {
                    System.arraycopy(bq[b], 0, bqs[b], 0, c.qDim());
                    attention.rope(bqs[b], c.heads(), len0 + b, l);
                }
                attention.rope(bq[b], c.heads(), pos0 + b, l);
                attention.rope(bk[b], c.kvHeads(), pos0 + b, l);
                System.arraycopy(bk[b], 0, cache.keys[l], slots[b] * c.kvDim(), c.kvDim());
                System.arraycopy(bv[b], 0, cache.values[l], slots[b] * c.kvDim(), c.kvDim());
            }
            final int layer = l;
            int heads = c.heads();
            mm.forRows(n * heads, (long) n * heads * len * c.headSize() * 4, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    int b = r / heads;
                    int h = r % heads;
                    attention.attend(cache, layer, h, bq[b], bqs[b], len0 + b + 1, bxb[b], batt[r], null);
                }
            });
            for (int b = 0; b < n; b++) {
                bxbq[b].set(bxb[b], c.qDim());
            }
            mm.matmul(w.wo()[l], bxbq, bxb2, n, c.dim(), c.qDim());
            for (int b = 0; b < n; b++) {
                postNorm(bxb2[b], w.attnPostNorm()[l]);
                add(bx[b], bxb2[b]);
                rmsnorm(bxb[b], bx[b], w.ffnNorm()[l], c.dim());
                bxbq[b].set(bxb[b], c.dim());
            }
            mm.matmul(w.wGate()[l], bxbq, bhb, n, c.hiddenDim(), c.dim());
            mm.matmul(w.wUp()[l], bxbq, bhb2, n, c.hiddenDim(), c.dim());
            for (int b = 0; b < n; b++) {
                gatedActivation(bhb[b], bhb2[b]);
                bhbq[b].set(bhb[b], c.hiddenDim());
            }
            mm.matmul(w.wDown()[l], bhbq, bxb2, n, c.dim(), c.hiddenDim());
            for (int b = 0; b < n; b++) {
                postNorm(bxb2[b], w.ffnPostNorm()[l]);
                add(bx[b], bxb2[b]);
            }
        }
        rmsnorm(lastHidden, bx[n - 1], w.outputNorm(), c.dim());
    }

    private void ffn(int l, float[] x) {
        rmsnorm(xb, x, w.ffnNorm()[l], c.dim());
        xbq.set(xb, c.dim());
        mm.matmul(gateUpWeights[l], xbq, gateUp, c.dim());
        gatedActivation(hb, hb2);
        mm.matmul(w.wDown()[l], hbq.set(hb, c.hiddenDim()), xb2, c.dim(), c.hiddenDim());
        postNorm(xb2, w.ffnPostNorm()[l]);
        add(x, xb2);
    }

    /** The token's embedding row, times the architecture's embedding scale (gemma3: sqrt(dim)). */
    private void embed(int token, float[] out) {
        w.tokenEmbedding().copyTo((long) token * c.dim(), out, 0, c.dim());
        float scale = c.variant().embeddingScale();
        if (scale != 1f) {
            for (int i = 0; i < c.dim(); i++) {
                out[i] *= scale;
            }
        }
    }

    /** qwen3's and gemma3's RMSNorm of each query and key head (before RoPE); nothing for the others. */
    private void headNorms(float[] q, float[] k, int l) {
        float[] qn = w.qNorm()[l];
        if (qn == null) {
            return;
        }
        int hs = c.headSize();
        for (int h = 0; h < c.heads(); h++) {
            rmsnorm(q, h * hs, q, h * hs, qn, hs);
        }
        for (int h = 0; h < c.kvHeads(); h++) {
            rmsnorm(k, h * hs, k, h * hs, w.kNorm()[l], hs);
        }
    }

    /** gemma3's norm of a block's output before the residual add; nothing when the layer has none. */
    private void postNorm(float[] v, float[] weight) {
        if (weight != null) {
            rmsnorm(v, v, weight, c.dim());
        }
    }

    private void softcap(float[] logits) {
        float cap = c.variant().finalLogitSoftcap();
        if (cap > 0) {
            for (int i = 0; i < logits.length; i++) {
                logits[i] = cap * (float) Math.tanh(logits[i] / cap);
            }
        }
    }

    /** {@code gate = act(gate) * up}: SiLU (SwiGLU), or GELU with the tanh approximation (gemma3). */
    private void gatedActivation(float[] gate, float[] up) {
        if (c.variant().geluFfn()) {
            for (int i = 0; i < gate.length; i++) {
                float g = gate[i];
                gate[i] = 0.5f * g * (1f + (float) Math.tanh(GELU_C * (g + 0.044715f * g * g * g))) * up[i];
            }
        } else {
            swiglu(gate, up);
        }
    }


    private void rmsnorm(float[] out, float[] in, float[] weight, int n) {
        rmsnorm(out, 0, in, 0, weight, n);
    }

    private void rmsnorm(float[] out, int outOff, float[] in, int inOff, float[] weight, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += in[inOff + i] * in[inOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + c.rmsEps()));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = weight[i] * (inv * in[inOff + i]);
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
