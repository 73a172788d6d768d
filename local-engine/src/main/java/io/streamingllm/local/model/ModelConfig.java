package io.streamingllm.local.model;

import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.gguf.GgufTensorInfo;
import io.streamingllm.local.tensor.FloatTensor;
import java.util.Arrays;

/**
 * Hyperparameters of a llama-family model, read from GGUF metadata ({@code ARCH.*} keys).
 *
 * @param architecture  {@code llama}, {@code qwen2}, {@code qwen3} or {@code gemma3}
 * @param ropeNeox      true: RoPE rotates pairs (i, i + rotary/2) (qwen2, qwen3, gemma3); false: consecutive
 *                      pairs (2i, 2i+1) (llama, whose GGUF Q/K rows llama.cpp's converter already permuted)
 * @param ropeDims      leading dimensions of each head that RoPE rotates
 * @param ropeFreqScale per-frequency divisors (1 for unscaled RoPE; linear scaling divides all by its
 *                      factor; Llama 3.1-style scaling comes as the {@code rope_freqs.weight} tensor)
 * @param variant       what sets the architecture apart from llama's forward pass
 */
public record ModelConfig(String architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                          int headSize, int vocabSize, int contextLength, float rmsEps, float ropeTheta,
                          boolean ropeNeox, int ropeDims, float[] ropeFreqScale, Variant variant) {

    /** Supported values of {@code general.architecture}. */
    public static final String SUPPORTED = "llama, qwen2, qwen3, gemma3";

    /**
     * The parts of the forward pass that differ between architectures (norm weights that an architecture has,
     * q/k norms and gemma3's post-norms, are found by their tensors, see {@link Weights}).
     *
     * @param embeddingScale    factor on the token embedding (gemma3: sqrt(dim); else 1)
     * @param geluFfn           the feed-forward gate takes GELU (tanh approximation; gemma3) instead of SiLU
     * @param attentionScale    factor on the query-key scores (1/sqrt(head size), or gemma3 27B's 1/sqrt(dim/heads))
     * @param slidingWindow     tokens a sliding-window layer attends to, itself included (0: no such layers)
     * @param slidingPattern    layer l slides when {@code l % slidingPattern < slidingPattern - 1} (gemma3: 6,
     *                          five sliding layers then a global one)
     * @param slidingRopeTheta  RoPE base of the sliding layers (gemma3: 10000; their frequencies are unscaled)
     * @param finalLogitSoftcap logits become {@code cap * tanh(logit / cap)} (0: none)
     */
    public record Variant(float embeddingScale, boolean geluFfn, float attentionScale, int slidingWindow,
                          int slidingPattern, float slidingRopeTheta, float finalLogitSoftcap) {

        static Variant llama(int headSize) {
            return new Variant(1f, false, (float) (1.0 / Math.sqrt(headSize)), 0, 0, 0f, 0f);
        }
    }

    /** A llama-style config (no sliding layers, SiLU, unscaled embeddings, no soft-capping). */
    public ModelConfig(String architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                       int headSize, int vocabSize, int contextLength, float rmsEps, float ropeTheta,
                       boolean ropeNeox, int ropeDims, float[] ropeFreqScale) {
        this(architecture, dim, hiddenDim, layers, heads, kvHeads, headSize, vocabSize, contextLength, rmsEps, ropeTheta,
                ropeNeox, ropeDims, ropeFreqScale, Variant.llama(headSize));
    }

    public int kvDim() {
        return kvHeads * headSize;
    }

    public int qDim() {
        return heads * headSize;
    }

    /** True when layer {@code l} attends only to the last {@link Variant#slidingWindow} tokens. */
    public boolean sliding(int l) {
        return variant.slidingWindow() > 0 && l % variant.slidingPattern() < variant.slidingPattern() - 1;
    }

    public static ModelConfig fromGguf(GgufFile gguf) {
        String arch = gguf.string("general.architecture");
        boolean neox = switch (arch) {
            case "llama" -> false;
            case "qwen2", "qwen3", "gemma3" -> true;
            default -> throw new GgufException(gguf.path() + ": architecture " + arch
                    + " is not supported by the local engine (supported: " + SUPPORTED + ")");
        };
        int dim = gguf.integer(arch + ".embedding_length");
        int heads = gguf.integer(arch + ".attention.head_count");
        int kvHeads = gguf.integer(arch + ".attention.head_count_kv", heads);
        int headSize = gguf.integer(arch + ".attention.key_length", dim / heads);
        if (gguf.integer(arch + ".attention.value_length", headSize) != headSize) {
            throw new GgufException(gguf.path() + ": key and value head sizes differ; not supported");
        }
        if (heads % kvHeads != 0) {
            throw new GgufException(gguf.path() + ": head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        int ropeDims = gguf.integer(arch + ".rope.dimension_count", headSize);
        GgufTensorInfo embedding = gguf.tensor("token_embd.weight");
        int vocab = Math.toIntExact(embedding.shape()[1]);
        float[] freqScale = new float[ropeDims / 2];
        Arrays.fill(freqScale, 1f);
        Object scalingType = gguf.metadata().get(arch + ".rope.scaling.type");
        float linear = gguf.real(arch + ".rope.scale_linear", 1f);
        if ("linear".equals(scalingType)) {
            linear = gguf.real(arch + ".rope.scaling.factor", 1f);
        } else if (scalingType != null && !"none".equals(scalingType)) {
            throw new GgufException(gguf.path() + ": RoPE scaling " + scalingType + " is not supported (none, linear, Llama 3 rope_freqs)");
        }
        GgufTensorInfo ropeFreqs = gguf.tensors().get("rope_freqs.weight");
        for (int i = 0; i < freqScale.length; i++) {
            freqScale[i] = linear;
        }
        if (ropeFreqs != null) {
            float[] f = FloatTensor.of(ropeFreqs).toArray();
            if (f.length != freqScale.length) {
                throw new GgufException(gguf.path() + ": rope_freqs has " + f.length + " values, expected " + freqScale.length);
            }
            for (int i = 0; i < f.length; i++) {
                freqScale[i] *= f[i];
            }
        }
        int layers = gguf.integer(arch + ".block_count");
        return new ModelConfig(arch, dim, gguf.integer(arch + ".feed_forward_length"), layers,
                heads, kvHeads, headSize, vocab, gguf.integer(arch + ".context_length", 2048),
                gguf.real(arch + ".attention.layer_norm_rms_epsilon", 1e-5f), gguf.real(arch + ".rope.freq_base", 10000f),
                neox, ropeDims, freqScale, variant(gguf, arch, dim, heads, headSize, layers));
    }

    /**
     * gemma3 as llama.cpp reads it: sliding layers in a pattern of 6 with their own RoPE base 10000 when
     * {@code sliding_window} is set, embeddings times sqrt(dim), GELU, queries scaled by 1/sqrt(head size)
     * except for the 27B model (62 layers: 1/sqrt(dim/heads)), soft-capped logits when
     * {@code final_logit_softcapping} is set. The other architectures take llama's defaults.
     */
    private static Variant variant(GgufFile gguf, String arch, int dim, int heads, int headSize, int layers) {
        float softcap = gguf.real(arch + ".final_logit_softcapping", 0f);
        if (!arch.equals("gemma3")) {
            Variant v = Variant.llama(headSize);
            return new Variant(v.embeddingScale(), v.geluFfn(), v.attentionScale(), 0, 0, 0f, softcap);
        }
        int window = gguf.integer(arch + ".attention.sliding_window", 0);
        if (window < 0) {
            throw new GgufException(gguf.path() + ": negative sliding window " + window);
        }
        float attentionScale = (float) (1.0 / Math.sqrt(layers == 62 ? (double) dim / heads : headSize));
        return new Variant((float) Math.sqrt(dim), true, attentionScale, window, window > 0 ? 6 : 0,
                window > 0 ? 10000f : 0f, softcap);
    }
}
