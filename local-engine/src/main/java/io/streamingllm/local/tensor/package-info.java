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
 */
package io.streamingllm.local.tensor;
