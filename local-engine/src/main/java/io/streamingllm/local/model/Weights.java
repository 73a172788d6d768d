package io.streamingllm.local.model;

import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.gguf.GgufTensorInfo;
import io.streamingllm.local.tensor.FloatTensor;
import java.util.Arrays;

/**
 * The tensors of a model, per layer. Matrices stay in their file encoding (views of the mapping);
 * norm weights and biases are small and copied to float arrays. Bias arrays are null when absent (qwen2
 * has them); so are the per-head q/k norm weights (qwen3, gemma3: {@code attn_q_norm}, {@code attn_k_norm},
 * head-size long) and the norms after attention and after the feed-forward block (gemma3:
 * {@code attn_post_norm}, {@code ffn_post_norm}), which those architectures require.
 *
 * <p>Gemma's RMSNorm multiplies by {@code 1 + w}; llama.cpp's converter stores {@code 1 + w} in the GGUF, so
 * every norm here multiplies by the stored weight.
 */
public record Weights(FloatTensor tokenEmbedding,
                      float[][] attnNorm, FloatTensor[] wq, FloatTensor[] wk, FloatTensor[] wv, FloatTensor[] wo,
                      float[][] qBias, float[][] kBias, float[][] vBias,
                      float[][] ffnNorm, FloatTensor[] wGate, FloatTensor[] wUp, FloatTensor[] wDown,
                      float[] outputNorm, FloatTensor output,
                      float[][] qNorm, float[][] kNorm, float[][] attnPostNorm, float[][] ffnPostNorm) {

    public static Weights fromGguf(GgufFile gguf, ModelConfig c) {
        int n = c.layers();
        boolean qkNorms = c.architecture().equals("qwen3") || c.architecture().equals("gemma3");
        boolean postNorms = c.architecture().equals("gemma3");
        float[][] attnNorm = new float[n][], ffnNorm = new float[n][];
        float[][] qBias = new float[n][], kBias = new float[n][], vBias = new float[n][];
        float[][] qNorm = new float[n][], kNorm = new float[n][], attnPostNorm = new float[n][], ffnPostNorm = new float[n][];
        FloatTensor[] wq = new FloatTensor[n], wk = new FloatTensor[n], wv = new FloatTensor[n], wo = new FloatTensor[n];
        FloatTensor[] gate = new FloatTensor[n], up = new FloatTensor[n], down = new FloatTensor[n];
        for (int l = 0; l < n; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = vector(gguf, p + "attn_norm.weight", c.dim());
            wq[l] = matrix(gguf, p + "attn_q.weight", c.qDim(), c.dim());
            wk[l] = matrix(gguf, p + "attn_k.weight", c.kvDim(), c.dim());
            wv[l] = matrix(gguf, p + "attn_v.weight", c.kvDim(), c.dim());
            wo[l] = matrix(gguf, p + "attn_output.weight", c.dim(), c.qDim());
            qBias[l] = optionalVector(gguf, p + "attn_q.bias", c.qDim());
            kBias[l] = optionalVector(gguf, p + "attn_k.bias", c.kvDim());
            vBias[l] = optionalVector(gguf, p + "attn_v.bias", c.kvDim());
            ffnNorm[l] = vector(gguf, p + "ffn_norm.weight", c.dim());
            gate[l] = matrix(gguf, p + "ffn_gate.weight", c.hiddenDim(), c.dim());
            up[l] = matrix(gguf, p + "ffn_up.weight", c.hiddenDim(), c.dim());
            down[l] = matrix(gguf, p + "ffn_down.weight", c.dim(), c.hiddenDim());
            if (qkNorms) {
                qNorm[l] = vector(gguf, p + "attn_q_norm.weight", c.headSize());
                kNorm[l] = vector(gguf, p + "attn_k_norm.weight", c.headSize());
            }
            if (postNorms) {
                attnPostNorm[l] = vector(gguf, p + "post_attention_norm.weight", c.dim());
                ffnPostNorm[l] = vector(gguf, p + "post_ffw_norm.weight", c.dim());
            }
        }
        FloatTensor embedding = matrix(gguf, "token_embd.weight", c.vocabSize(), c.dim());
        FloatTensor output = gguf.tensors().containsKey("output.weight")
                ? matrix(gguf, "output.weight", c.vocabSize(), c.dim())
                : embedding; // tied head
        return new Weights(embedding, attnNorm, wq, wk, wv, wo, qBias, kBias, vBias, ffnNorm, gate, up, down,
                vector(gguf, "output_norm.weight", c.dim()), output, qNorm, kNorm, attnPostNorm, ffnPostNorm);
    }

    private static FloatTensor matrix(GgufFile gguf, String name, int rows, int cols) {
        GgufTensorInfo t = gguf.tensor(name);
        if (t.shape().length != 2 || t.shape()[0] != cols || t.shape()[1] != rows) {
            throw new GgufException(gguf.path() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected [" + cols + ", " + rows + "]");
        }
        return FloatTensor.of(t);
    }

    private static float[] vector(GgufFile gguf, String name, int size) {
        GgufTensorInfo t = gguf.tensor(name);
        if (t.elementCount() != size) {
            throw new GgufException(gguf.path() + ": tensor " + name + " has " + t.elementCount() + " values, expected " + size);
        }
        return FloatTensor.of(t).toArray();
    }

    private static float[] optionalVector(GgufFile gguf, String name, int size) {
        return gguf.tensors().containsKey(name) ? vector(gguf, name, size) : null;
    }
}
