/**
 * The sidecar's configuration: every {@code STREAMING_LLM_*} variable the code reads, its default and meaning
 * ({@link io.streamingllm.core.config.SidecarConfig#KEYS}, mirrored by {@code .env.sidecar.example}), and what
 * {@code STREAMING_LLM_MODEL} names ({@link io.streamingllm.core.config.ModelSpec}). An invalid value is a
 * {@link io.streamingllm.core.config.ConfigException} naming the variable, which start-up turns into one line and a
 * non-zero exit.
 */
package io.streamingllm.core.config;
