package io.streamingllm.local.model;

import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.gguf.GgufTensorInfo;
import io.streamingllm.local.tensor.FloatTensor;
import java.util.Arrays;

/**
 * Hyperparameters of a llama-family model, read from GGUF metadata ({@code ARCH.*} keys).
 *
 * @param architecture  {@code llama} or {@code qwen2}
 * @param ropeNeox      true: RoPE rotates pairs (i, i + rotary/2) (qwen2); false: consecutive pairs
 *                      (2i, 2i+1) (llama, whose GGUF Q/K rows llama.cpp's converter already permuted)
 * @param ropeDims      leading dimensions of each head that RoPE rotates
 * @param ropeFreqScale per-frequency divisors (1 for unscaled RoPE; linear scaling divides all by its
 *                      factor; Llama 3.1-style scaling comes as the {@code rope_freqs.weight} tensor)
 */
public record ModelConfig(String architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                          int headSize, int vocabSize, int contextLength, float rmsEps, float ropeTheta,
                          boolean ropeNeox, int ropeDims, float[] ropeFreqScale) {

    public int kvDim() {
        return kvHeads * headSize;
    }

    public int qDim() {
        return heads * headSize;
    }

    public static ModelConfig fromGguf(GgufFile gguf) {
        String arch = gguf.string("general.architecture");
        boolean neox = switch (arch) {
            case "llama" -> false;
            case "qwen2" -> true;
            default -> throw new GgufException(gguf.path() + ": architecture " + arch
                    + " is not supported by the local engine (supported: llama, qwen2)");
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
        return new ModelConfig(arch, dim, gguf.integer(arch + ".feed_forward_length"), gguf.integer(arch + ".block_count"),
                heads, kvHeads, headSize, vocab, gguf.integer(arch + ".context_length", 2048),
                gguf.real(arch + ".attention.layer_norm_rms_epsilon", 1e-5f), gguf.real(arch + ".rope.freq_base", 10000f),
                neox, ropeDims, freqScale);
    }
}
