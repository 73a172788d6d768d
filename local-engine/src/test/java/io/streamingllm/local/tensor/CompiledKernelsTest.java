package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.ChildJvm;
import io.streamingllm.local.testing.Quant;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every type's decode product compiles to vector code whatever ran before it in the JVM. A kernel whose vectors C2
 * only knows by a type profile that other kernels share was compiled, after other types had run, as calls on boxed
 * vectors (Q4_K, Q5_K, Q6_K decode 6-20x slower, as a mixed-type GGUF runs). Without type speculation that
 * happened every time, so the child JVM here runs without it ({@code -XX:-UseTypeSpeculation}, compiling in the
 * foreground with {@code -Xbatch}), runs the types' products one after the other, and reports the bytes each
 * product allocates once compiled: vector code at most the few vectors of a row's lane sum, boxed vectors one an
 * operation.
 */
class CompiledKernelsTest {
    static final int ROWS = 64;
    static final int COLS = 768;
    static final int WARM_UP = 4000;
    static final int MEASURED = 200;
    static final List<GgmlType> TYPES = List.of(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
            GgmlType.Q5_K, GgmlType.Q6_K);

    @TempDir
    Path dir;

    @Test
    void eachTypesProductRunsOnUnboxedVectorsAfterTheOthersRan() throws IOException, InterruptedException {
        String output = ChildJvm.run(dir, List.of("-XX:-UseTypeSpeculation", "-Xbatch"), Child.class, List.of(), 300);
        for (GgmlType type : TYPES) {
            Matcher m = Pattern.compile(type + " allocated (\\d+) bytes a product").matcher(output);
            assertTrue(m.find(), "no figure for " + type + ": " + output);
            // at most the row's lane sum on boxed vectors, where C2 does not inline it into a large kernel (480
            // bytes); a kernel compiled as calls on boxed vectors allocated 6,800 bytes a row
            assertTrue(Long.parseLong(m.group(1)) < ROWS * 1024L, type + " allocates per operation once compiled: " + output);
        }
    }

    /** The products of every type in turn, each warmed up until compiled, then its allocation per product. */
    public static final class Child {
        public static void main(String[] args) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Random r = new Random(3);
            try (Arena arena = Arena.ofConfined(); MatMul mm = new MatMul(1)) {
                for (GgmlType type : TYPES) {
                    float[] w = new float[ROWS * COLS];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) r.nextGaussian();
                    }
                    byte[] bytes = Quant.quantize(type, w);
                    MemorySegment seg = arena.allocate(bytes.length);
                    MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
                    FloatTensor t = FloatTensor.of(type, seg, w.length);
                    float[] x = new float[COLS];
                    for (int i = 0; i < COLS; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    QuantizedActivations xq = new QuantizedActivations(COLS).set(x, COLS);
                    float[] out = new float[ROWS];
                    for (int i = 0; i < WARM_UP; i++) {
                        mm.matmul(t, xq, out, ROWS, COLS);
                    }
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < MEASURED; i++) {
                        mm.matmul(t, xq, out, ROWS, COLS);
                    }
                    long perProduct = (threads.getCurrentThreadAllocatedBytes() - before) / MEASURED;
                    System.out.printf("%s allocated %d bytes a product%n", type, perProduct);
                }
            }
        }
    }
}
