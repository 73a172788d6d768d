package io.streamingllm.local.tensor;

/**
 * The form a weight type's matrix-vector product takes its activations in (ggml's {@code vec_dot_type}):
 * float for F32/F16/BF16, 8-bit blocks of 32 for Q8_0/Q4_0, 8-bit blocks of 256 for the K-quants. See
 * {@link QuantizedActivations} for the block layouts.
 */
public enum ActivationFormat {
    FLOAT, Q8_0, Q8_K
}
