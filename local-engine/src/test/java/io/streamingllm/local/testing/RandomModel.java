package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A small random-weight llama, qwen2, qwen3 or gemma3 model written as GGUF, keeping the (dequantised)
 * weights so a float64 {@link ReferenceModel} can recompute what the engine must output. Matrices use the
 * given type; norms and biases are F32 as in llama.cpp's files. Sizes are multiples of 256 so that every
 * weight type, K-quants included, applies.
 *
 * <p>qwen3: per-head q/k norms, head size 128 with 4 heads (q width 512 over dim 256), no biases. gemma3: six
 * layers (five sliding with a window of {@link #GEMMA3_WINDOW} tokens and RoPE base 10000, then a global one
 * with base 1e6), q/k norms and post-attention/post-FFN norms, tied output. Gemma norm weights are drawn as
 * HF stores them (around 0, applied as {@code 1 + w}) and written as llama.cpp's converter writes them,
 * {@code 1 + w}; {@link #attnNorm} and the others keep the written values.
 */
public final class RandomModel {
    public static final int GEMMA3_WINDOW = 4;

    public final String arch;
    public final int dim, hidden, layers, heads, kvHeads, headSize, vocab;
    public final float eps = 1e-5f;
    public final float theta;
    public final float[] embedding, outputNorm, output;
    public final float[][] attnNorm, wq, wk, wv, wo, qBias, kBias, vBias, ffnNorm, gate, up, down;
    public final float[][] qNorm, kNorm, attnPostNorm, ffnPostNorm; // null entries when the architecture has none

    public static RandomModel write(Path path, String arch, GgmlType type, long seed) throws IOException {
        return switch (arch) {
            case "gemma3" -> write(path, arch, type, seed, 256, 512, 6, 4, 2, 320, true);
            default -> write(path, arch, type, seed, 256, 512, 2, 4, 2, 320, false);
        };
    }

    public boolean gemma() {
        return arch.equals("gemma3");
    }

    /** gemma3: layer l slides over the last {@link #GEMMA3_WINDOW} tokens unless it is every sixth. */
    public boolean sliding(int l) {
        return gemma() && l % 6 < 5;
    }

    public static RandomModel write(Path path, String arch, GgmlType type, long seed, int dim, int hidden, int layers,
                                    int heads, int kvHeads, int vocab, boolean tied) throws IOException {
        return new RandomModel(path, arch, type, seed, dim, hidden, layers, heads, kvHeads, vocab, tied, null, List.of());
    }

    /**
     * A small model whose GGUF also holds {@code tokenizer.chat_template} = {@code chatTemplate} and whose last
     * vocabulary entries are the control tokens {@code controls} (chat markers such as {@code <|im_start|>}).
     */
    public static RandomModel writeWithTemplate(Path path, String arch, GgmlType type, long seed, String chatTemplate,
                                                List<String> controls) throws IOException {
        return new RandomModel(path, arch, type, seed, 256, 512, 2, 4, 2, 320, false, chatTemplate, controls);
    }

    private RandomModel(Path path, String arch, GgmlType type, long seed, int dim, int hidden, int layers, int heads,
                        int kvHeads, int vocab, boolean tied, String chatTemplate, List<String> controls)
            throws IOException {
        this.arch = arch;
        this.dim = dim;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headSize = arch.equals("qwen3") ? 128 : dim / heads;
        this.vocab = vocab;
        this.theta = gemma() ? 1e6f : 10000f;
        Random r = new Random(seed);
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", arch).putString("general.name", "random-" + arch + "-" + type);
        g.putU32(arch + ".context_length", 4096).putU32(arch + ".embedding_length", dim)
                .putU32(arch + ".block_count", layers).putU32(arch + ".feed_forward_length", hidden)
                .putU32(arch + ".attention.head_count", heads).putU32(arch + ".attention.head_count_kv", kvHeads)
                .putF32(arch + ".attention.layer_norm_rms_epsilon", eps).putF32(arch + ".rope.freq_base", theta);
        if (arch.equals("qwen3")) {
            g.putU32(arch + ".attention.key_length", headSize).putU32(arch + ".attention.value_length", headSize);
        }
        if (gemma()) {
            g.putU32(arch + ".attention.sliding_window", GEMMA3_WINDOW);
        }
        String[] tokens = new String[vocab];
        for (int i = 0; i < vocab; i++) {
            tokens[i] = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>"
                    : i < 259 ? String.format("<0x%02X>", i - 3) : "\u2581t" + i;
        }
        for (int i = 0; i < controls.size(); i++) {
            tokens[vocab - controls.size() + i] = controls.get(i);
        }
        g.putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", tokens)
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 2);
        if (chatTemplate != null) {
            List<GgufWriter.Value> types = new ArrayList<>(vocab);
            for (int i = 0; i < vocab; i++) {
                boolean control = i == 1 || i == 2 || i >= vocab - controls.size();
                types.add(GgufWriter.i32(i == 0 ? 2 : control ? 3 : i < 259 ? 6 : 1));
            }
            g.put("tokenizer.ggml.token_type", GgufWriter.array(5, types));
            g.putString("tokenizer.chat_template", chatTemplate);
        }
        int qDim = heads * headSize, kvDim = kvHeads * headSize;
        embedding = g.tensor("token_embd.weight", type, gauss(r, vocab * dim, gemma() ? 0.25f : 1f), dim, vocab);
        attnNorm = new float[layers][];
        wq = new float[layers][];
        wk = new float[layers][];
        wv = new float[layers][];
        wo = new float[layers][];
        qBias = new float[layers][];
        kBias = new float[layers][];
        vBias = new float[layers][];
        ffnNorm = new float[layers][];
        gate = new float[layers][];
        up = new float[layers][];
        down = new float[layers][];
        qNorm = new float[layers][];
        kNorm = new float[layers][];
        attnPostNorm = new float[layers][];
        ffnPostNorm = new float[layers][];
        float s = (float) (1 / Math.sqrt(dim));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = g.tensor(p + "attn_norm.weight", GgmlType.F32, norm(r, dim), dim);
            wq[l] = g.tensor(p + "attn_q.weight", type, gauss(r, qDim * dim, 2 * s), dim, qDim);
            wk[l] = g.tensor(p + "attn_k.weight", type, gauss(r, kvDim * dim, 2 * s), dim, kvDim);
            wv[l] = g.tensor(p + "attn_v.weight", type, gauss(r, kvDim * dim, s), dim, kvDim);
            if (arch.equals("qwen3") || gemma()) {
                qNorm[l] = g.tensor(p + "attn_q_norm.weight", GgmlType.F32, norm(r, headSize), headSize);
                kNorm[l] = g.tensor(p + "attn_k_norm.weight", GgmlType.F32, norm(r, headSize), headSize);
            }
            if (arch.equals("qwen2")) {
                qBias[l] = g.tensor(p + "attn_q.bias", GgmlType.F32, gauss(r, qDim, 0.5f), qDim);
                kBias[l] = g.tensor(p + "attn_k.bias", GgmlType.F32, gauss(r, kvDim, 0.5f), kvDim);
                vBias[l] = g.tensor(p + "attn_v.bias", GgmlType.F32, gauss(r, kvDim, 0.1f), kvDim);
            }
            wo[l] = g.tensor(p + "attn_output.weight", type, gauss(r, dim * qDim, s), qDim, dim);
            if (gemma()) {
                attnPostNorm[l] = g.tensor(p + "post_attention_norm.weight", GgmlType.F32, norm(r, dim), dim);
            }
            ffnNorm[l] = g.tensor(p + "ffn_norm.weight", GgmlType.F32, norm(r, dim), dim);
            gate[l] = g.tensor(p + "ffn_gate.weight", type, gauss(r, hidden * dim, s), dim, hidden);
            up[l] = g.tensor(p + "ffn_up.weight", type, gauss(r, hidden * dim, s), dim, hidden);
            down[l] = g.tensor(p + "ffn_down.weight", type, gauss(r, dim * hidden, (float) (1 / Math.sqrt(hidden))), hidden, dim);
            if (gemma()) {
                ffnPostNorm[l] = g.tensor(p + "post_ffw_norm.weight", GgmlType.F32, norm(r, dim), dim);
            }
        }
        outputNorm = g.tensor("output_norm.weight", GgmlType.F32, norm(r, dim), dim);
        output = tied ? embedding : g.tensor("output.weight", type, gauss(r, vocab * dim, s * 4), dim, vocab);
        g.write(path);
    }

    private static float[] gauss(Random r, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }

    /** A norm weight around 1: for gemma, HF's weight around 0 plus the 1 the converter adds. */
    private static float[] norm(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            float hf = (float) (r.nextGaussian() * 0.1);
            a[i] = 1f + hf;
        }
        return a;
    }
}
