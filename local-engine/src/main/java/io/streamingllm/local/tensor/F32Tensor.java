package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

final class F32Tensor extends FloatTensor {
    F32Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.getAtIndex(F32_LE, index);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F_SPECIES.length();
        int upper = F_SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(F_SPECIES);
        for (int i = 0; i < upper; i += lanes) {
            FloatVector w = FloatVector.fromMemorySegment(F_SPECIES, data, (offset + i) * 4, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F_SPECIES, x, xOffset + i), acc);
        }
        float s = VectorMath.sum(acc);
        for (int i = upper; i < n; i++) {
            s += getFloat(offset + i) * x[xOffset + i];
        }
        return s;
    }

    /**
     * Two rows times two vectors at a time, each sum with the same FMAs in the same order as {@link #dot} (so the
     * same result): the loads shared, and four independent FMA chains instead of one, whose latency bounded
     * {@link #dot} when the weights come from the cache.
     */
    @Override
    void dotsBatch(int from, int to, int cols, float[][] x, int batch, float[][] out) {
        int lanes = F_SPECIES.length();
        int upper = F_SPECIES.loopBound(cols);
        for (int r = from; r < to; r += 2) {
            int r1 = Math.min(r + 1, to - 1); // an odd last row is paired with itself
            long w0 = (long) r * cols * 4;
            long w1 = (long) r1 * cols * 4;
            for (int t = 0; t < batch; t += 2) {
                int t1 = Math.min(t + 1, batch - 1);
                float[] x0 = x[t];
                float[] x1 = x[t1];
                FloatVector a00 = FloatVector.zero(F_SPECIES);
                FloatVector a01 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                for (int i = 0; i < upper; i += lanes) {
                    FloatVector wa = FloatVector.fromMemorySegment(F_SPECIES, data, w0 + i * 4L, ByteOrder.LITTLE_ENDIAN);
                    FloatVector wb = FloatVector.fromMemorySegment(F_SPECIES, data, w1 + i * 4L, ByteOrder.LITTLE_ENDIAN);
                    FloatVector xa = FloatVector.fromArray(F_SPECIES, x0, i);
                    FloatVector xb = FloatVector.fromArray(F_SPECIES, x1, i);
                    a00 = wa.fma(xa, a00);
                    a01 = wa.fma(xb, a01);
                    a10 = wb.fma(xa, a10);
                    a11 = wb.fma(xb, a11);
                }
                out[t][r] = tail(r, cols, upper, x0, VectorMath.sum(a00));
                out[t1][r] = tail(r, cols, upper, x1, VectorMath.sum(a01));
                out[t][r1] = tail(r1, cols, upper, x0, VectorMath.sum(a10));
                out[t1][r1] = tail(r1, cols, upper, x1, VectorMath.sum(a11));
            }
        }
    }

    /** {@code s} plus the products past the last whole vector of row {@code r}, as {@link #dot} adds them. */
    private float tail(int r, int cols, int upper, float[] x, float s) {
        long offset = (long) r * cols;
        for (int i = upper; i < cols; i++) {
            s += getFloat(offset + i) * x[i];
        }
        return s;
    }
}
