package io.streamingllm.local.model;

import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.gguf.GgufTensorInfo;
import io.streamingllm.local.tensor.FloatTensor;
import java.util.Arrays;

/**
 * The tensors of a model, per layer. Matrices stay in their file encoding (views of the mapping);
 * norm weights and biases are small and copied to float arrays. Bias arrays are null when absent.
 */
public record Weights(FloatTensor tokenEmbedding,
                      float[][] attnNorm, FloatTensor[] wq, FloatTensor[] wk, FloatTensor[] wv, FloatTensor[] wo,
                      float[][] qBias, float[][] kBias, float[][] vBias,
                      float[][] ffnNorm, FloatTensor[] wGate, FloatTensor[] wUp, FloatTensor[] wDown,
                      float[] outputNorm, FloatTensor output) {

    public static Weights fromGguf(GgufFile gguf, ModelConfig c) {
        int n = c.layers();
        float[][] attnNorm = new float[n][], ffnNorm = new float[n][];
        float[][] qBias = new float[n][], kBias = new float[n][], vBias = new float[n][];
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
        }
        FloatTensor embedding = matrix(gguf, "token_embd.weight", c.vocabSize(), c.dim());
        FloatTensor output = gguf.tensors().containsKey("output.weight")
                ? matrix(gguf, "output.weight", c.vocabSize(), c.dim())
                : embedding; // tied head
        return new Weights(embedding, attnNorm, wq, wk, wv, wo, qBias, kBias, vBias, ffnNorm, gate, up, down,
                vector(gguf, "output_norm.weight", c.dim()), output);
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
