package io.streamingllm.local.eval;

import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.tokenizer.SpecialTokens;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code scripts/eval-streaming.sh}: the StreamingLLM comparison (dense, window, sliding window with
 * re-computation, streaming with 0-8 sinks) on a stream of stories the model samples itself; writes
 * {@code results.md}, {@code windows.csv} and PNG plots into the output directory.
 */
public final class StreamingEvalMain {
    static final int WINDOW = 512;

    record Options(Path model, int tokens, Path out, long seed, float temperature, float topP, int maxStory,
                   int stride, int threads, int[] caches, int[] sinks) {
    }

    public static void main(String[] args) throws IOException {
        Locale.setDefault(Locale.ROOT);
        System.setProperty("java.awt.headless", "true");
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("eval-streaming: " + e.getMessage());
            System.err.println("usage: eval-streaming.sh [--model PATH] [--tokens N] [--out DIR] [--seed N] "
                    + "[--recompute-stride N] [--threads N] [--caches 256,512] [--sinks 1,2,4,8]");
            System.exit(2);
            return;
        }
        if (!Files.isRegularFile(o.model())) {
            System.err.println("eval-streaming: model file not found: " + o.model());
            System.exit(1);
        }
        Files.createDirectories(o.out());
        try (LoadedModel m = LoadedModel.open(o.model(), o.threads())) {
            run(m, o);
        }
    }

    static Options parse(String[] args) {
        Path model = Path.of("models/stories260K.gguf");
        int tokens = 20_000;
        Path out = Path.of("docs/streaming-eval");
        long seed = 42;
        int stride = 16;
        int threads = 1;
        int maxStory = -1;
        int[] caches = {256, 512};
        int[] sinks = {1, 2, 4, 8};
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value after " + a);
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--model" -> model = Path.of(v);
                    case "--tokens" -> tokens = Integer.parseInt(v);
                    case "--out" -> out = Path.of(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--recompute-stride" -> stride = Integer.parseInt(v);
                    case "--threads" -> threads = Integer.parseInt(v);
                    case "--max-story" -> maxStory = Integer.parseInt(v);
                    case "--caches" -> caches = ints(v);
                    case "--sinks" -> sinks = ints(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number for " + a + ": " + v);
            }
        }
        if (tokens < 2 || stride < 1 || threads < 1) {
            throw new IllegalArgumentException("--tokens must be >= 2, --recompute-stride and --threads >= 1");
        }
        return new Options(model, tokens, out, seed, 1.0f, 0.9f, maxStory, stride, threads, caches, sinks);
    }

    private static int[] ints(String v) {
        return Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    static void run(LoadedModel m, Options o) throws IOException {
        ModelConfig c = m.config();
        Tokenizer tok = Tokenizer.fromGguf(m.metadata());
        SpecialTokens sp = tok.specialTokens();
        int maxStory = o.maxStory() > 0 ? o.maxStory() : c.contextLength();
        StreamingEval eval = new StreamingEval(m.transformer());
        log("sampling %d tokens of stories (seed %d, temperature %.1f, top-p %.2f, at most %d tokens a story)",
                o.tokens(), o.seed(), o.temperature(), o.topP(), maxStory);
        int[] stream = StreamingEval.sampleStories(m.transformer(), o.tokens(), sp.bos(), sp.eos(), o.seed(),
                o.temperature(), o.topP(), maxStory);
        int stories = (int) Arrays.stream(stream).filter(t -> t == sp.bos()).count();

        List<StreamingEval.Run> runs = new ArrayList<>();
        runs.add(timed("dense", () -> eval.dense(stream)));
        for (int cache : o.caches()) {
            runs.add(timed("window L=" + cache, () -> eval.window(cache, stream)));
            for (int s : o.sinks()) {
                runs.add(timed("streaming L=" + cache + " S=" + s, () -> eval.streaming(cache, s, stream)));
            }
            runs.add(timed("recompute L=" + cache, () -> eval.recompute(cache, stream, o.stride())));
        }
        int big = Arrays.stream(o.caches()).max().orElse(512);
        int measureFrom = Math.min(stream.length - 1, 2 * big);
        int measureTo = Math.min(stream.length, measureFrom + 4096);
        List<Mass> masses = List.of(
                new Mass("dense, first " + Math.min(c.contextLength(), stream.length) + " tokens (within the trained context)",
                        AttentionMass.measure(m.transformer(), KvCache.dense(c, stream.length), stream, sp.bos(), 4, 4,
                                Math.min(c.contextLength(), stream.length))),
                new Mass("streaming L=" + big + " S=4, tokens " + measureFrom + "–" + measureTo + " (4 sinks)",
                        AttentionMass.measure(m.transformer(), KvCache.streaming(c, 4, big - 4), stream, sp.bos(), 4,
                                measureFrom, measureTo)),
                new Mass("window L=" + big + ", tokens " + measureFrom + "–" + measureTo + " (4 oldest recent tokens)",
                        AttentionMass.measure(m.transformer(), KvCache.window(c, big), stream, sp.bos(), 4,
                                measureFrom, measureTo)));

        String sample = tok.decode(Arrays.copyOfRange(stream, 0, Math.min(120, stream.length)));
        Files.writeString(o.out().resolve("results.md"), markdown(o, m, c, stream.length, stories, sample, runs, masses));
        Files.writeString(o.out().resolve("windows.csv"), csv(runs));
        for (int cache : o.caches()) {
            LinePlot p = new LinePlot("Perplexity per " + WINDOW + "-token window, cache L=" + cache
                    + " (" + name(o.model()) + ", trained context " + c.contextLength() + ")",
                    "tokens streamed", "perplexity", true);
            int k = 0;
            for (StreamingEval.Run r : runs) {
                if (r.mode().equals("dense") || r.cacheSize() == cache) {
                    p.add(series(r, window(r.nll()), k++));
                }
            }
            p.write(o.out().resolve("perplexity-L" + cache + ".png"));
        }
        LinePlot lat = new LinePlot("Decode latency per token, median per " + WINDOW + "-token window (" + name(o.model()) + ")",
                "tokens streamed", "microseconds per token", true);
        int k = 0;
        for (StreamingEval.Run r : runs) {
            if (r.mode().equals("dense") || r.mode().equals("window") || r.mode().equals("recompute")
                    || (r.mode().equals("streaming") && r.sinks() == 4)) {
                lat.add(series(r, windowMicros(r), k++));
            }
        }
        lat.write(o.out().resolve("latency.png"));
        log("wrote %s", o.out().toAbsolutePath());
    }

    record Mass(String label, AttentionMass.Result result) {
    }

    private static final Color[] COLORS = {new Color(0, 0, 0), new Color(214, 39, 40), new Color(31, 119, 180),
            new Color(44, 160, 44), new Color(255, 127, 14), new Color(23, 190, 207), new Color(148, 103, 189),
            new Color(140, 86, 75), new Color(227, 119, 194)};

    private static LinePlot.Series series(StreamingEval.Run r, double[] y, int k) {
        double[] x = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            x[i] = Math.min((i + 1) * WINDOW, r.nll().length);
        }
        return new LinePlot.Series(r.name(), x, y, COLORS[k % COLORS.length], r.mode().equals("recompute"));
    }

    /** Perplexity of each {@link #WINDOW}-token window (exp of the mean NLL of its evaluated tokens). */
    static double[] window(double[] nll) {
        int n = (nll.length + WINDOW - 1) / WINDOW;
        double[] out = new double[n];
        for (int w = 0; w < n; w++) {
            out[w] = Math.exp(StreamingEval.mean(nll, w * WINDOW, (w + 1) * WINDOW));
        }
        return out;
    }

    static double[] windowMicros(StreamingEval.Run r) {
        int n = (r.nll().length + WINDOW - 1) / WINDOW;
        double[] out = new double[n];
        for (int w = 0; w < n; w++) {
            out[w] = StreamingEval.medianMicros(r, w * WINDOW, (w + 1) * WINDOW);
        }
        return out;
    }

    private static String markdown(Options o, LoadedModel m, ModelConfig c, int tokens, int stories, String sample,
                                   List<StreamingEval.Run> runs, List<Mass> masses) {
        StringBuilder b = new StringBuilder();
        b.append("# StreamingLLM evaluation: ").append(name(o.model())).append("\n\n");
        b.append(String.format("- model: `%s` (%s, %d layers, %d heads, %d KV heads, dim %d, trained context %d)%n",
                name(o.model()), c.architecture(), c.layers(), c.heads(), c.kvHeads(), c.dim(), c.contextLength()));
        b.append(String.format("- stream: %d tokens, %d stories sampled from BOS (seed %d, temperature %.1f, top-p %.2f, "
                        + "no top-k; a story ends when the model samples BOS or EOS, or at %d tokens; each starts with BOS)%n",
                tokens, stories, o.seed(), o.temperature(), o.topP(),
                o.maxStory() > 0 ? o.maxStory() : c.contextLength()));
        b.append(String.format("- NLL in nats of each next token; perplexity = exp(mean NLL). Sliding window with "
                + "re-computation is evaluated at every %d-th token (positions t ≡ %d mod %d); the \"at recompute positions\" "
                + "column scores every mode on that same subset%n", o.stride(), o.stride() - 1, o.stride()));
        b.append(String.format("- latency: wall time of one forward step (recompute: of the whole re-prefill), "
                + "%d thread(s), %s %s%n", o.threads(), System.getProperty("java.vm.name"), System.getProperty("java.version")));
        b.append("- stream begins: `").append(sample.replace("\n", "\\n").replace("`", "'")).append("…`\n\n");

        double[] recomputeMask = runs.stream().filter(r -> r.mode().equals("recompute")).findFirst()
                .map(StreamingEval.Run::nll).orElse(null);
        int past = Math.min(tokens - 1, 2 * c.contextLength());
        b.append("## Summary\n\n");
        b.append(String.format("| mode | cache | sinks | PPL all | PPL tokens ≥ %d | PPL at recompute positions | µs/token mean | µs/token median | µs/token median, last window |%n", past));
        b.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (StreamingEval.Run r : runs) {
            double[] nll = r.nll();
            double matched = recomputeMask == null ? Double.NaN : Math.exp(masked(nll, recomputeMask));
            int n = nll.length;
            b.append(String.format("| %s | %s | %d | %.3f | %.3f | %.3f | %.1f | %.1f | %.1f |%n", r.mode(),
                    r.mode().equals("dense") ? "all" : Integer.toString(r.cacheSize()), r.sinks(),
                    Math.exp(StreamingEval.mean(nll, 0, n)), Math.exp(StreamingEval.mean(nll, past, n)), matched,
                    StreamingEval.meanMicros(r, 0, n), StreamingEval.medianMicros(r, 0, n), StreamingEval.medianMicros(r, n - WINDOW, n)));
        }
        b.append("\nStreaming with S=0 sinks is the window row (the same cache).\n\n");

        for (int cache : o.caches()) {
            List<StreamingEval.Run> cols = runs.stream()
                    .filter(r -> r.mode().equals("dense") || r.cacheSize() == cache).toList();
            b.append("## Perplexity per ").append(WINDOW).append("-token window, cache L=").append(cache).append("\n\n| tokens |");
            for (StreamingEval.Run r : cols) {
                b.append(' ').append(shortName(r)).append(" |");
            }
            b.append("\n| --- |").append(" ---: |".repeat(cols.size())).append('\n');
            int windows = (tokens - 1 + WINDOW - 1) / WINDOW;
            List<double[]> ppl = cols.stream().map(r -> window(r.nll())).toList();
            for (int w = 0; w < windows; w++) {
                b.append(String.format("| %d–%d |", w * WINDOW, Math.min((w + 1) * WINDOW, tokens - 1) - 1));
                for (double[] p : ppl) {
                    b.append(String.format(" %.3f |", p[w]));
                }
                b.append('\n');
            }
            b.append('\n');
        }

        b.append("## Attention on the first tokens\n\n");
        b.append("Mean softmax weight that single-token decoding puts on cache positions 0..3, per layer (mean over heads), "
                + "next to what uniform attention over the same cache would give them, and the weight on the most recent "
                + "BOS (the start of the current story) when it is in the cache.\n\n");
        for (Mass ms : masses) {
            AttentionMass.Result r = ms.result();
            b.append("### ").append(ms.label()).append(" — ").append(r.tokens()).append(" tokens\n\n");
            b.append("| layer | on positions 0..3 | uniform | on latest BOS | per head (0..3) |\n| ---: | ---: | ---: | ---: | --- |\n");
            for (int l = 0; l < r.firstMass().length; l++) {
                StringBuilder heads = new StringBuilder();
                for (double v : r.firstMass()[l]) {
                    heads.append(heads.isEmpty() ? "" : " ").append(String.format("%.3f", v));
                }
                b.append(String.format("| %d | %.3f | %.3f | %.3f | %s |%n", l, r.layerMean(r.firstMass(), l),
                        r.layerMean(r.uniformMass(), l), r.layerMean(r.bosMass(), l), heads));
            }
            b.append('\n');
        }
        b.append("Plots: ");
        for (int cache : o.caches()) {
            b.append("[perplexity L=").append(cache).append("](perplexity-L").append(cache).append(".png), ");
        }
        b.append("[latency](latency.png). Per-window NLL of every mode: [windows.csv](windows.csv).\n");
        return b.toString();
    }

    private static double masked(double[] nll, double[] mask) {
        double s = 0;
        int k = 0;
        for (int i = 0; i < nll.length; i++) {
            if (!Double.isNaN(mask[i]) && !Double.isNaN(nll[i])) {
                s += nll[i];
                k++;
            }
        }
        return k == 0 ? Double.NaN : s / k;
    }

    private static String shortName(StreamingEval.Run r) {
        return switch (r.mode()) {
            case "streaming" -> "S=" + r.sinks();
            case "recompute" -> "recompute";
            default -> r.mode();
        };
    }

    private static String csv(List<StreamingEval.Run> runs) {
        StringBuilder b = new StringBuilder("window_start");
        for (StreamingEval.Run r : runs) {
            b.append(',').append(r.name().replace(",", " ")).append(" nll,").append(r.name().replace(",", " ")).append(" us_per_token");
        }
        b.append('\n');
        int windows = (runs.getFirst().nll().length + WINDOW - 1) / WINDOW;
        for (int w = 0; w < windows; w++) {
            b.append(w * WINDOW);
            for (StreamingEval.Run r : runs) {
                b.append(String.format(",%.5f,%.2f", StreamingEval.mean(r.nll(), w * WINDOW, (w + 1) * WINDOW),
                        StreamingEval.meanMicros(r, w * WINDOW, (w + 1) * WINDOW)));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String name(Path model) {
        return model.getFileName().toString();
    }

    private static StreamingEval.Run timed(String what, Supplier<StreamingEval.Run> body) {
        long t0 = System.nanoTime();
        StreamingEval.Run r = body.get();
        double ppl = Math.exp(StreamingEval.mean(r.nll(), 0, r.nll().length));
        log("%-32s ppl %.3f  (%.1f s)", what, ppl, (System.nanoTime() - t0) / 1e9);
        return r;
    }

    private static void log(String format, Object... args) {
        System.err.println("eval-streaming: " + String.format(format, args));
    }
}
