package io.streamingllm.bench;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.local.LocalEngine;
import io.streamingllm.local.gguf.GgmlType;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cost per token of JSON-constrained decoding: decode time per generated token with {@code format: json}
 * and with a schema, against free text, on stories260K (vocabulary 512) and the generated ~100M model
 * (vocabulary 32,000, its byte tokens typed). Temperature 1 over {@code --seeds} seeds, same prompt; each
 * figure is total decode time over total tokens of three rounds that interleave the formats, after a warm-up
 * round. Target: at most 15% over free text.
 *
 * <pre>java --add-modules jdk.incubator.vector -Xmx4g -cp ... io.streamingllm.bench.JsonDecodeBench
 *     [--stories PATH] [--dir DIR] [--threads 2] [--seeds 8] [--tokens 128]</pre>
 */
public final class JsonDecodeBench {
    private static final int ROUNDS = 3;
    static final JsonObject SCHEMA = Json.createReader(new StringReader("""
            {"type":"object","properties":{"title":{"type":"string"},"year":{"type":"integer"},
             "tags":{"type":"array","items":{"type":"string"}},"rating":{"enum":["good","bad"]}},
             "required":["title","year","tags","rating"]}""")).readObject();

    public static void main(String[] args) throws Exception {
        Path stories = Path.of("models/stories260K.gguf");
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "streamingllm-bench");
        int threads = 2, seeds = 8, tokens = 128;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--stories" -> stories = Path.of(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--seeds" -> seeds = Integer.parseInt(args[i + 1]);
                case "--tokens" -> tokens = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Files.createDirectories(dir);
        Path big = dir.resolve("bench-100M-F32-bytes.gguf");
        if (!Files.isRegularFile(big)) {
            LocalBench.write100M(big, GgmlType.F32, true);
        }
        System.out.println("| model | format | ms/token | tokens | over free text |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (Path model : List.of(stories, big)) {
            if (!Files.isRegularFile(model)) {
                System.err.println(model + " not found; skipped");
                continue;
            }
            try (LocalEngine e = LocalEngine.open("bench", model, threads, 4, 2048, tokens)) {
                String name = model.getFileName().toString().replace(".gguf", "");
                List<ResponseFormat> formats = List.of(ResponseFormat.NONE, ResponseFormat.JSON, ResponseFormat.schema(SCHEMA));
                long[][] total = new long[formats.size()][2];
                for (int round = 0; round <= ROUNDS; round++) { // round 0 warms up; rounds interleave the formats
                    for (int f = 0; f < formats.size(); f++) {
                        long[] m = measure(e, formats.get(f), seeds, tokens);
                        if (round > 0) {
                            total[f][0] += m[0];
                            total[f][1] += m[1];
                        }
                    }
                }
                double free = report(name, "free text", total[0], 0);
                report(name, "json", total[1], free);
                report(name, "schema", total[2], free);
            }
        }
    }

    /** {nanos of decoding, tokens decoded} over the seeds. */
    static long[] measure(LocalEngine e, ResponseFormat format, int seeds, int tokens) throws Exception {
        long nanos = 0, count = 0;
        for (int seed = 0; seed < seeds; seed++) {
            GenerationOptions o = new GenerationOptions(1.0, tokens, (long) seed, List.of(), null, null).withFormat(format);
            GenerationResult r = e.generate(List.of(ChatMessage.user("Describe a film as JSON.")), o, d -> { })
                    .result().get(10, TimeUnit.MINUTES);
            nanos += r.evalNanos();
            count += r.completionTokens();
        }
        return new long[] {nanos, count};
    }

    static double report(String model, String format, long[] m, double free) {
        double ms = m[0] / 1e6 / Math.max(1, m[1]);
        System.out.printf("| %s | %s | %.3f | %d | %s |%n", model, format, ms, m[1],
                free == 0 ? "" : String.format("%+.1f%%", 100 * (ms / free - 1)));
        return ms;
    }
}
