package io.streamingllm.local.tensor;

/**
 * Software prefetch by plain loads. Java has no prefetch instruction, and decoding streams every weight from
 * memory once per token: with the kernels' arithmetic between the loads, the core kept too few cache misses
 * in flight, and a Q8_0 matrix-vector product ran at half of its cache-resident speed (decode 50 tok/s on the
 * 100M model at one thread). So the Q8_0 and Q4_0 row kernels also load one byte of each cache line of the
 * next row pair while they compute the current one; the miss is then served in the shadow of that work
 * (decode 68-70 tok/s). The loaded bytes are XORed together and handed to {@link #consume} so that the
 * compiler cannot drop the loads as unused. Touching two to four pairs ahead instead was no faster. The
 * K-quant kernels do not prefetch: their arithmetic, not memory, sets their pace (Q4_K decode runs at about 80% of
 * its cache-resident speed).
 */
final class Prefetch {
    @SuppressWarnings("unused")
    private static int sink; // written, never read: racy writes are harmless

    private Prefetch() {
    }

    /** Keeps the loads that produced {@code touched} alive. */
    static void consume(int touched) {
        sink = touched;
    }
}
