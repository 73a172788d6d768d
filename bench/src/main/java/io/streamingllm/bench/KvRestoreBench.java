package io.streamingllm.bench;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.local.LocalEngine;
import io.streamingllm.local.gguf.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time to first token of the first turn after a restart with a full window (START 4 + RECENT 2044 = the
 * generated ~100M model's 2,048-token context): the conversation's KV cache restored from {@code DATA_DIR/kv}
 * against the whole window prefilled again, on the same engine settings; and whether both generate the same
 * tokens as an engine that never stopped. Each figure is the best of {@code --runs} after one warm-up.
 *
 * <pre>java --add-modules jdk.incubator.vector -Xmx4g -cp ... io.streamingllm.bench.KvRestoreBench
 *     [--dir DIR] [--type F32] [--threads 2] [--runs 3] [--window 2000]</pre>
 */
public final class KvRestoreBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "streamingllm-bench");
        GgmlType type = GgmlType.F32;
        int threads = 2, runs = 3, window = 2000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--type" -> type = GgmlType.valueOf(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--window" -> window = Integer.parseInt(args[i + 1]); // prompt tokens; fewer for a quick check
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Files.createDirectories(dir);
        Path model = dir.resolve("bench-100M-" + type + ".gguf");
        if (!Files.isRegularFile(model)) {
            LocalBench.write100M(model, type);
        }
        Path kv = dir.resolve("kv-restore");
        Path saved = dir.resolve("kv-restore-saved.kv");
        GenerationOptions options = new GenerationOptions(0.0, 16, null, List.of(), null, null);
        List<ChatMessage> first;
        try (LocalEngine e = open(model, threads, null)) { // the first message: about `window` tokens
            int words = 1;
            while (e.tokenizer().encode(words(0, words * 2)).length < window) {
                words *= 2;
            }
            int lo = words, hi = words * 2;
            while (lo + 1 < hi) {
                int mid = (lo + hi) >>> 1;
                if (e.tokenizer().encode(words(0, mid)).length <= window) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            first = List.of(ChatMessage.user(words(0, lo)));
        }

        // one conversation filling the window, saved at shutdown
        String answer;
        try (LocalEngine e = open(model, threads, kv)) {
            answer = e.generate("k", first, options, d -> { }).result().get(30, TimeUnit.MINUTES).text();
            LocalEngine.SessionStats s = e.session("k").orElseThrow();
            System.err.printf("window: %d tokens held of %d streamed%n", s.cachedTokens(), s.streamedTokens());
        }
        Files.copy(kv.resolve("k.kv"), saved, StandardCopyOption.REPLACE_EXISTING);
        List<ChatMessage> second = new ArrayList<>(first);
        second.add(ChatMessage.assistant(answer));
        second.add(ChatMessage.user(words(5000, 3)));

        String reference;
        try (LocalEngine e = open(model, threads, null)) {
            e.generate("k", first, options, d -> { }).result().get(30, TimeUnit.MINUTES);
            reference = e.generate("k", second, options, d -> { }).result().get(30, TimeUnit.MINUTES).text();
        }
        double prefill = Double.MAX_VALUE, restore = Double.MAX_VALUE;
        String prefilled = null, restored = null;
        int prefillTokens = 0, restoreTokens = 0;
        for (int run = 0; run <= runs; run++) {
            try (LocalEngine e = open(model, threads, null)) { // a restart without saved caches
                Turn t = ttft(e, second, options);
                if (run > 0) {
                    prefill = Math.min(prefill, t.ttftMs());
                }
                prefilled = t.result().text();
                prefillTokens = t.result().promptTokens();
            }
            Files.copy(saved, kv.resolve("k.kv"), StandardCopyOption.REPLACE_EXISTING);
            try (LocalEngine e = open(model, threads, kv)) { // a restart with the saved cache
                Turn t = ttft(e, second, options);
                if (run > 0) {
                    restore = Math.min(restore, t.ttftMs());
                }
                restored = t.result().text();
                restoreTokens = t.result().promptTokens();
            }
        }
        System.out.println("| first turn after a restart (100M-" + type + ", " + threads + " threads) | TTFT ms | prompt tokens prefilled |");
        System.out.println("| --- | --- | --- |");
        System.out.printf("| whole window prefilled again | %.1f | %d |%n", prefill, prefillTokens);
        System.out.printf("| KV cache restored from disk | %.1f | %d |%n", restore, restoreTokens);
        System.out.printf("%nspeed-up %.1f× (target ≥ 20×); restored answer = never-stopped engine's: %s; "
                + "re-prefilled answer = never-stopped engine's: %s; cache file %d MiB%n", prefill / restore,
                restored.equals(reference), prefilled.equals(reference), Files.size(saved) >> 20);
    }

    private record Turn(GenerationResult result, double ttftMs) {
    }

    private static Turn ttft(LocalEngine e, List<ChatMessage> prompt, GenerationOptions options) throws Exception {
        AtomicLong firstToken = new AtomicLong();
        long start = System.nanoTime();
        GenerationResult r = e.generate("k", prompt, options, d -> firstToken.compareAndSet(0, System.nanoTime()))
                .result().get(30, TimeUnit.MINUTES);
        return new Turn(r, (firstToken.get() - start) / 1e6);
    }

    private static LocalEngine open(Path model, int threads, Path kv) {
        return LocalEngine.open("bench", model, threads, 4, 2048, 16, 4,
                kv == null ? LocalEngine.KvDisk.NONE : new LocalEngine.KvDisk(kv, 8L << 30));
    }

    /** {@code n} words of the generated vocabulary ({@code t259} …); its tokenizer has no merge scores, so a word takes several tokens. */
    private static String words(int from, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append('t').append(259 + (from + i * 7919) % 31000);
        }
        return sb.toString();
    }
}
