package io.streamingllm.local.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Matrix × vector products split over a fixed number of threads, parallel over output rows. Small
 * products run on the calling thread: forking costs more than a 64×64 matmul.
 *
 * <p>Thread-safe: callers on several threads share the pool.
 */
public final class MatMul implements AutoCloseable {
    private static final long PARALLEL_THRESHOLD = 1 << 14; // multiply-adds

    private final int threads;
    private final ForkJoinPool pool;

    public MatMul(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() {
        return threads;
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
     * The same for a batch of input vectors: {@code out[b][r] = dot(w row r, x[b])}. Each weight row is
     * read once for the whole batch, which is what makes prefill faster per token than decoding.
     */
    public void matmul(FloatTensor w, float[][] x, float[][] out, int batch, int rows, int cols) {
        forRows(rows, (long) rows * cols * batch, (from, to) -> {
            for (int r = from; r < to; r++) {
                long offset = (long) r * cols;
                for (int b = 0; b < batch; b++) {
                    out[b][r] = w.dot(offset, x[b], 0, cols);
                }
            }
        });
    }

    /** Runs {@code body} over row ranges covering {@code [0, rows)}, in parallel when worth it. */
    public void forRows(int rows, long work, RowRange body) {
        if (pool == null || work < PARALLEL_THRESHOLD || rows < 2) {
            body.run(0, rows);
            return;
        }
        int chunks = Math.min(rows, threads * 4);
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
                body.run((int) ((long) rows * lo / chunks), (int) ((long) rows * hi / chunks));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, rows, lo, mid, chunks), new Split(body, rows, mid, hi, chunks));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
