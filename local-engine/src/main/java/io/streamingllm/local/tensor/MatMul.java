package io.streamingllm.local.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Matrix × vector products split over a fixed number of threads, parallel over output rows. Small
 * products run on the calling thread: forking costs more than a 64×64 matmul.
 *
 * <p>{@link Kernels#INTEGER} (the default) multiplies quantised weights with 8-bit activations in integer
 * lanes, as llama.cpp does; {@link Kernels#FLOAT} keeps float activations everywhere: the reference the
 * integer kernels are tested against.
 *
 * <p>Thread-safe: callers on several threads share the pool.
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
    private final ForkJoinPool pool;

    public MatMul(int threads) {
        this(threads, Kernels.INTEGER);
    }

    public MatMul(int threads, Kernels kernels) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.kernels = kernels;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
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
     * The batch form of {@link #matmul(FloatTensor, QuantizedActivations, float[], int, int)}:
     * {@code out[b][r] = dot(w row r, x[b])}. Rows go in tiles of {@value #ROW_TILE}, each tile against every
     * vector of the batch before the next, so a tile's weights are read from memory once per batch and stay in
     * the first-level cache for the other vectors. Each product is computed as the single-vector form computes
     * it: a batched prefill equals token-by-token decoding bit for bit.
     */
    public void matmul(FloatTensor w, QuantizedActivations[] x, float[][] out, int batch, int rows, int cols) {
        ActivationFormat format = kernels == Kernels.INTEGER ? w.activationFormat() : ActivationFormat.FLOAT;
        if (format == ActivationFormat.FLOAT) {
            forRows(rows, (long) rows * cols * batch, (from, to) -> {
                for (int r = from; r < to; r++) {
                    long offset = (long) r * cols;
                    for (int b = 0; b < batch; b++) {
                        out[b][r] = w.dot(offset, x[b].values(), 0, cols);
                    }
                }
            });
            return;
        }
        for (int b = 0; b < batch; b++) {
            if (x[b].length() != cols) {
                throw new IllegalArgumentException("activation vector of " + x[b].length() + " values for " + cols + " columns");
            }
            x[b].prepare(format);
        }
        forRows(rows, (long) rows * cols * batch, (from, to) -> {
            for (int r = from; r < to; r += ROW_TILE) {
                int end = Math.min(to, r + ROW_TILE);
                for (int b = 0; b < batch; b++) {
                    w.dotsQuantized(r, end, cols, x[b], out[b]);
                }
            }
        });
    }

    /** Rows per tile of the batch product: 16 rows of 768 Q8_0 values are 13 KB. */
    static final int ROW_TILE = 16;

    /** Runs {@code body} over row ranges covering {@code [0, rows)}, in parallel when worth it. */
    public void forRows(int rows, long work, RowRange body) {
        if (pool == null || work < PARALLEL_THRESHOLD || rows < 4) {
            body.run(0, rows);
            return;
        }
        int chunks = Math.min(rows / 2, threads * 4); // even bounds: the integer kernels take rows in pairs
        pool.invoke(new Split(body, rows, 0, chunks));
    }

    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    private static final class Split extends RecursiveAction {
        private final RowRange body;
        private final int rows;
        private final int lo;
        private final int hi;
        private final int chunks;

        Split(RowRange body, int rows, int lo, int chunks) {
            this(body, rows, lo, lo + chunks, chunks);
        }

        private Split(RowRange body, int rows, int lo, int hi, int chunks) {
            this.body = body;
            this.rows = rows;
            this.lo = lo;
            this.hi = hi;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run(bound(lo), bound(hi));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, rows, lo, mid, chunks), new Split(body, rows, mid, hi, chunks));
        }

        /** Start of chunk {@code c}: even, except the end of the last chunk. */
        private int bound(int c) {
            return c == chunks ? rows : (int) ((long) rows * c / chunks) & ~1;
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
