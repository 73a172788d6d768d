/**
 * Tensors read straight from their ggml encoding (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) with the
 * Vector API: {@link io.streamingllm.local.tensor.FloatTensor#dot} works block by block on the mapped
 * bytes, nothing is dequantised as a whole; the quantised types also multiply in integer lanes with an
 * activation vector quantised to 8-bit blocks ({@link io.streamingllm.local.tensor.QuantizedActivations},
 * ggml's {@code vec_dot_type}: Q8_0 blocks for Q8_0/Q4_0, Q8_K blocks for the K-quants);
 * {@link io.streamingllm.local.tensor.MatMul} splits matrix products between the caller and a fixed team of
 * helper threads ({@code RowTeam}) and chooses integer or float kernels ({@link io.streamingllm.local.tensor.MatMul.Kernels});
 * {@link io.streamingllm.local.tensor.VectorMath} sums lanes in a fixed order so that results are the same
 * before and after JIT compilation. Tensors are immutable views and safe to share; they must not be used
 * after their file is closed. A {@code QuantizedActivations} is filled by one thread, then read by the
 * product's threads.
 *
 * <p>In the decode kernels a vector carried round a loop (an accumulator, a sum of products) is only ever the
 * argument of an operation, never the receiver: {@code t = p.mul(s).add(t)}, not {@code t = t.add(p.mul(s))};
 * where one leaves its loop to be converted or reinterpreted, it goes through {@code zero.add(t)} first. To
 * C2's parser a loop's vector is a bare {@code IntVector}, and the operations called on it bind through type
 * profiles inside the Vector API that every kernel of the JVM shares: after kernels of other types had run, C2
 * could compile a kernel as calls on boxed vectors (Q4_K, Q5_K and Q6_K decode at 5-12 tok/s instead of 55-110
 * in some runs, and in every run without type speculation; {@code CompiledKernelsTest}). As an argument the
 * vector only meets a class compare, and the integer sums are exact in any order.
 */
package io.streamingllm.local.tensor;
