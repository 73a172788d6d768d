package io.streamingllm.bench;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.model.Sampler;
import io.streamingllm.local.tensor.MatMul;
import io.streamingllm.local.testing.GgufWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Prefill and decode speed of the local engine: stories260K (when found) and a generated ~100M-parameter
 * llama model in F32, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K, each with 1 and 2 threads. Greedy decoding over a
 * dense cache; each figure is the best of {@code --runs} runs after one warm-up run. {@code --kernels FLOAT}
 * measures the float reference arithmetic instead of the integer kernels (A/B on one machine).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... io.streamingllm.bench.LocalBench
 *     [--stories PATH] [--dir DIR] [--types F32,Q8_0,Q4_K] [--threads 1,2] [--runs 5] [--kernels INTEGER|FLOAT]</pre>
 *
 * <p>One JVM measures every model it is given, so each model's figures may depend on what C2 compiled before it
 * (until the kernels stopped calling methods on loop-carried vectors, Q6_K decode read 8.8-12.3 tok/s after the
 * other five types in about half the runs; see the {@code tensor} package doc). A sidecar loads one model;
 * {@code scripts/bench-local-engine.sh} runs one model and thread count a JVM, as llama.cpp's side runs one a
 * process. {@code --types ""} measures stories260K alone.
 */
public final class LocalBench {
    record Figure(String model, int threads, int prefillTokens, double prefillTps, int decodeTokens, double decodeTps) {
    }

    public static void main(String[] args) throws Exception {
        Path stories = Path.of("models/stories260K.gguf");
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "streamingllm-bench");
        List<GgmlType> types = List.of(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
        int[] threads = {1, 2};
        int runs = 5;
        MatMul.Kernels kernels = MatMul.Kernels.INTEGER;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--stories" -> stories = Path.of(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--types" -> types = args[i + 1].isEmpty() ? List.of()
                        : Arrays.stream(args[i + 1].split(",")).map(GgmlType::valueOf).toList();
                case "--threads" -> threads = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--kernels" -> kernels = MatMul.Kernels.valueOf(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<Figure> figures = new ArrayList<>();
        if (Files.isRegularFile(stories)) {
            for (int t : threads) {
                figures.add(measure("stories260K", stories, t, 128, 256, runs, kernels));
            }
        } else {
            System.err.println("stories260K not found at " + stories + "; skipped");
        }
        Files.createDirectories(dir);
        for (GgmlType type : types) {
            Path file = dir.resolve("bench-100M-" + type + ".gguf");
            if (!Files.isRegularFile(file)) {
                long t0 = System.nanoTime();
                write100M(file, type);
                System.err.printf("generated %s (%d MB) in %.1f s%n", file, Files.size(file) >> 20, (System.nanoTime() - t0) / 1e9);
            }
            for (int t : threads) {
                figures.add(measure("100M-" + type, file, t, 64, 32, runs, kernels));
            }
        }
        System.out.println("| model | threads | prefill tok/s (tokens) | decode tok/s (tokens) |");
        System.out.println("| --- | --- | --- | --- |");
        for (Figure f : figures) {
            System.out.printf("| %s | %d | %.1f (%d) | %.1f (%d) |%n", f.model(), f.threads(), f.prefillTps(), f.prefillTokens(),
                    f.decodeTps(), f.decodeTokens());
        }
    }

    static Figure measure(String name, Path file, int threads, int prefill, int decode, int runs, MatMul.Kernels kernels)
            throws Exception {
        try (LoadedModel m = LoadedModel.open(file, threads, kernels)) {
            int[] prompt = new Random(1).ints(prefill, 3, m.config().vocabSize()).toArray();
            prompt[0] = 1;
            double bestPrefill = 0, bestDecode = 0;
            for (int run = 0; run <= runs; run++) { // run 0 warms the JIT up
                KvCache cache = KvCache.dense(m.config(), prefill + decode + 1);
                long t0 = System.nanoTime();
                float[] logits = m.transformer().prefill(cache, prompt, true);
                long t1 = System.nanoTime();
                for (int i = 0; i < decode; i++) {
                    logits = m.transformer().forward(cache, Sampler.argmax(logits));
                }
                long t2 = System.nanoTime();
                if (run > 0) {
                    bestPrefill = Math.max(bestPrefill, prefill / ((t1 - t0) / 1e9));
                    bestDecode = Math.max(bestDecode, decode / ((t2 - t1) / 1e9));
                }
            }
            System.err.printf("%s threads=%d prefill %.1f tok/s decode %.1f tok/s%n", name, threads, bestPrefill, bestDecode);
            return new Figure(name, threads, prefill, bestPrefill, decode, bestDecode);
        }
    }

    /** A random llama model of about 110M parameters (dim 768, 12 layers, vocab 32000, tied head). */
    static void write100M(Path file, GgmlType type) throws Exception {
        write100M(file, type, false);
    }

    /**
     * The same; with {@code typedByteTokens} the vocabulary also types its tokens (the {@code <0xNN>} ones as
     * byte tokens), as real SentencePiece GGUFs do, so they decode to their bytes (JSON output needs that).
     */
    static void write100M(Path file, GgmlType type, boolean typedByteTokens) throws Exception {
        int dim = 768, hidden = 2048, layers = 12, heads = 12, vocab = 32000;
        Random r = new Random(42);
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", "llama").putString("general.name", "bench-100M-" + type)
                .putU32("llama.context_length", 2048).putU32("llama.embedding_length", dim)
                .putU32("llama.block_count", layers).putU32("llama.feed_forward_length", hidden)
                .putU32("llama.attention.head_count", heads).putU32("llama.attention.head_count_kv", heads)
                .putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f).putF32("llama.rope.freq_base", 10000f);
        String[] tokens = new String[vocab];
        for (int i = 0; i < vocab; i++) {
            tokens[i] = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>"
                    : i < 259 ? String.format("<0x%02X>", i - 3) : "\u2581t" + i; // llama.cpp needs the byte tokens
        }
        g.putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", tokens)
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 2);
        if (typedByteTokens) { // unknown 2, control 3, byte 6, normal 1
            List<GgufWriter.Value> types = new ArrayList<>();
            for (int i = 0; i < vocab; i++) {
                types.add(GgufWriter.i32(i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));
            }
            g.put("tokenizer.ggml.token_type", GgufWriter.array(5, types));
        }
        float s = (float) (1 / Math.sqrt(dim));
        g.add("token_embd.weight", type, gauss(r, vocab * dim, 1f), dim, vocab);
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            g.add(p + "attn_norm.weight", GgmlType.F32, ones(dim), dim);
            g.add(p + "attn_q.weight", type, gauss(r, dim * dim, s), dim, dim);
            g.add(p + "attn_k.weight", type, gauss(r, dim * dim, s), dim, dim);
            g.add(p + "attn_v.weight", type, gauss(r, dim * dim, s), dim, dim);
            g.add(p + "attn_output.weight", type, gauss(r, dim * dim, s), dim, dim);
            g.add(p + "ffn_norm.weight", GgmlType.F32, ones(dim), dim);
            g.add(p + "ffn_gate.weight", type, gauss(r, hidden * dim, s), dim, hidden);
            g.add(p + "ffn_up.weight", type, gauss(r, hidden * dim, s), dim, hidden);
            g.add(p + "ffn_down.weight", type, gauss(r, dim * hidden, s), hidden, dim);
        }
        g.add("output_norm.weight", GgmlType.F32, ones(dim), dim);
        g.write(file);
    }

    private static float[] gauss(Random r, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }
}
