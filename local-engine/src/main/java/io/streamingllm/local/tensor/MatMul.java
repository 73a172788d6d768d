package io.streamingllm.local.tensor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Matrix × vector products split over a fixed number of threads ({@link RowTeam}: the caller and
 * {@code threads - 1} helpers), parallel over output rows. Small products run on the calling thread alone:
 * handing off costs more than a 64×64 matmul. Products that share their activation vector (q, k and v;
 * gate and up) run as one range ({@link #matmul(FloatTensor[], QuantizedActivations, float[][], int)}).
 *
 * <p>{@link Kernels#INTEGER} (the default) multiplies quantised weights with 8-bit activations in integer
 * lanes, as llama.cpp does; {@link Kernels#FLOAT} keeps float activations everywhere: the reference the
 * integer kernels are tested against.
 *
 * <p>Thread-safe: callers on several threads share the team (one range at a time; a caller that finds it
 * busy computes alone).
 */
public final class MatMul implements AutoCloseable {
    private static final long PARALLEL_THRESHOLD = 1 << 14; // multiply-adds

    /** How products with quantised weights treat the activation vector. */
    public enum Kernels {
        /** 8-bit activation blocks ({@link QuantizedActivations}) times the weight quants in integer lanes. */
        INTEGER,
        /** Float activations times the decoded weights: slower, no activation rounding; the reference. */
        FLOAT
    }

    private final int threads;
    private final Kernels kernels;
    private final RowTeam team;
    private static final AtomicInteger TEAMS = new AtomicInteger();

    public MatMul(int threads) {
        this(threads, Kernels.INTEGER);
    }

    public MatMul(int threads, Kernels kernels) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.kernels = kernels;
        this.team = threads == 1 ? null : new RowTeam(threads, "matmul-" + TEAMS.incrementAndGet());
    }

    public int threads() {
        return threads;
    }

    public Kernels kernels() {
        return kernels;
    }

    /**
     * {@code out[r] = dot(w row r, x)} for {@code r < rows}: in integer lanes against x's 8-bit form when
     * the weights are quantised and the kernels are {@link Kernels#INTEGER}, else on x's float values.
     */
    public void matmul(FloatTensor w, QuantizedActivations x, float[] out, int rows, int cols) {
        ActivationFormat format = kernels == Kernels.INTEGER ? w.activationFormat() : ActivationFormat.FLOAT;
        if (format == ActivationFormat.FLOAT) {
            matmul(w, x.values(), out, rows, cols);
            return;
        }
        if (x.length() != cols) {
            throw new IllegalArgumentException("activation vector of " + x.length() + " values for " + cols + " columns");
        }
        x.prepare(format);
        forRows(rows, (long) rows * cols, (from, to) -> w.dotsQuantized(from, to, cols, x, out));
    }

    /** {@code out[r] = dot(w row r, x)} for {@code r < rows}; {@code w} is {@code rows × cols}. */
    public void matmul(FloatTensor w, float[] x, float[] out, int rows, int cols) {
        forRows(rows, (long) rows * cols, (from, to) -> {
            for (int r = from; r < to; r++) {
                out[r] = w.dot((long) r * cols, x, 0, cols);
            }
        });
    }

    /**
     * {@code outs[m][r] = dot(ws[m] row r, x)} for each matrix {@code m} (its rows are {@code outs[m].length}),
     * all as one parallel range over their rows together: one hand-off instead of one per matrix. Each product
     * is computed exactly as {@link #matmul(FloatTensor, QuantizedActivations, float[], int, int)} computes it.
     */
    public void matmul(FloatTensor[] ws, QuantizedActivations x, float[][] outs, int cols) {
        if (x.length() != cols) {
            throw new IllegalArgumentException("activation vector of " + x.length() + " values for " + cols + " columns");
        }
        int[] starts = new int[ws.length + 1]; // matrix m's rows are [starts[m], starts[m+1]) of the range
        ActivationFormat[] formats = new ActivationFormat[ws.length];
        for (int m = 0; m < ws.length; m++) {
            formats[m] = kernels == Kernels.INTEGER ? ws[m].activationFormat() : ActivationFormat.FLOAT;
            x.prepare(formats[m]);
            // even starts keep every chunk's pairs of rows within one matrix
            starts[m + 1] = starts[m] + ((outs[m].length + 1) & ~1);
        }
        int total = starts[ws.length];
        forRows(total, (long) total * cols, (from, to) -> {
            for (int m = 0; m < ws.length; m++) {
                int lo = Math.max(from, starts[m]) - starts[m];
                int hi = Math.min(to, starts[m + 1]) - starts[m];
                hi = Math.min(hi, outs[m].length);
                if (lo >= hi) {
                    continue;
                }
                if (formats[m] == ActivationFormat.FLOAT) {
                    for (int r = lo; r < hi; r++) {
                        outs[m][r] = ws[m].dot((long) r * cols, x.values(), 0, cols);
                    }
                } else {
                    ws[m].dotsQuantized(lo, hi, cols, x, outs[m]);
                }
            }
        });
    }

    /**
     * The batch form of {@link #matmul(FloatTensor, QuantizedActivations, float[], int, int)}:
     * {@code out[b][r] = dot(w row r, x[b])}. Rows go in tiles of {@value #ROW_TILE}, each tile against every
     * vector of the batch before the next, so a tile's weights are read from memory once per batch and stay in
     * the first-level cache for the other vectors. Each product is computed as the single-vector form computes
     * it: a batched prefill equals token-by-token decoding bit for bit.
     */
    public void matmul(FloatTensor w, QuantizedActivations[] x, float[][] out, int batch, int rows, int cols) {
        ActivationFormat format = kernels == Kernels.INTEGER ? w.activationFormat() : ActivationFormat.FLOAT;
        if (format == ActivationFormat.FLOAT) {
            float[][] values = new float[batch][];
            for (int b = 0; b < batch; b++) {
                values[b] = x[b].values();
            }
            forRows(rows, (long) rows * cols * batch, (from, to) -> w.dotsBatch(from, to, cols, values, batch, out));
            return;
        }
        for (int b = 0; b < batch; b++) {
            if (x[b].length() != cols) {
                throw new IllegalArgumentException("activation vector of " + x[b].length() + " values for " + cols + " columns");
            }
            x[b].prepare(format);
            w.prepareBatch(x[b]);
        }
        forRows(rows, (long) rows * cols * batch, (from, to) -> {
            for (int r = from; r < to; r += ROW_TILE) {
                int end = Math.min(to, r + ROW_TILE);
                w.dotsQuantizedBatch(r, end, cols, x, batch, out);
            }
        });
    }

    /** Rows per tile of the batch product: 16 rows of 768 Q8_0 values are 13 KB. */
    static final int ROW_TILE = 16;

    /** Runs {@code body} over row ranges covering {@code [0, rows)}, in parallel when worth it. */
    public void forRows(int rows, long work, RowRange body) {
        if (team == null || work < PARALLEL_THRESHOLD || rows < 4) {
            body.run(0, rows);
            return;
        }
        // several chunks a thread: a thread that another process holds up takes fewer
        team.run(rows, Math.min(rows / 2, threads * 4), body);
    }

    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    @Override
    public void close() {
        if (team != null) {
            team.close();
        }
    }
}
