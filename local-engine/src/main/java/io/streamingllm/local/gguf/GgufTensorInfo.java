package io.streamingllm.local.gguf;

import java.lang.foreign.MemorySegment;

/**
 * One tensor of a GGUF file.
 *
 * @param name  tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param shape dimensions as GGUF stores them, fastest-varying first ({@code shape[0]} is a row's length)
 * @param type  element type
 * @param data  the tensor's bytes, a slice of the memory-mapped file (not a copy)
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, MemorySegment data) {
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
