package io.streamingllm.bench;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.tensor.FloatTensor;
import io.streamingllm.local.tensor.MatMul;
import io.streamingllm.local.tensor.QuantizedActivations;
import io.streamingllm.local.testing.Quant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Matrix-vector kernel speed per weight type, one thread: a 2048×768 random matrix (the 100M model's FFN
 * shape, 1.5M weights, cache-resident) times a vector, in multiply-adds per second of the thread's CPU time
 * (so that other processes on a busy machine count less). Each figure is the best of {@code --runs} runs of
 * 50 products, the integer kernels (8-bit activations) and the float reference interleaved run by run; the
 * first runs warm the JIT up. Types run one after another in one JVM, and the product loop is compiled for
 * the types seen so far (F16 after F32 measured half its own speed): compare versions with one type per run
 * ({@code --types Q4_K}).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... io.streamingllm.bench.KernelBench [--types Q4_K,Q8_0] [--runs 40]</pre>
 */
public final class KernelBench {
    private static final int ROWS = 2048;
    private static final int COLS = 768;
    private static final int PRODUCTS = 50;

    public static void main(String[] args) {
        List<GgmlType> types = List.of(GgmlType.values());
        int runs = 40;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--types" -> types = Arrays.stream(args[i + 1].split(",")).map(GgmlType::valueOf).toList();
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Random r = new Random(1);
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.03);
        }
        float[] x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] out = new float[ROWS];
        QuantizedActivations xq = new QuantizedActivations(COLS);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        System.out.println("| type | integer GMAC/s | float GMAC/s (1 thread, 2048x768, CPU time) |");
        System.out.println("| --- | --- | --- |");
        try (Arena arena = Arena.ofConfined(); MatMul integer = new MatMul(1);
             MatMul reference = new MatMul(1, MatMul.Kernels.FLOAT)) {
            for (GgmlType type : types) {
                byte[] bytes = Quant.quantize(type, w);
                MemorySegment seg = arena.allocate(bytes.length, 64);
                MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
                FloatTensor t = FloatTensor.of(type, seg, w.length);
                double[] best = new double[2];
                for (int run = 0; run < runs; run++) {
                    for (int k = 0; k < 2; k++) {
                        MatMul mm = k == 0 ? integer : reference;
                        long t0 = cpu.getCurrentThreadCpuTime();
                        for (int p = 0; p < PRODUCTS; p++) {
                            mm.matmul(t, xq.set(x, COLS), out, ROWS, COLS); // quantising is part of the cost
                        }
                        best[k] = Math.max(best[k], (double) PRODUCTS * ROWS * COLS / (cpu.getCurrentThreadCpuTime() - t0));
                    }
                }
                System.out.printf("| %s | %.2f | %.2f |%n", type, best[0], best[1]);
            }
        }
    }
}
