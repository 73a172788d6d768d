/**
 * A llama-family model (llama, qwen2, qwen3, gemma3) over a GGUF file: {@link io.streamingllm.local.model.ModelConfig}
 * from the {@code ARCH.*} metadata, {@link io.streamingllm.local.model.Weights} as views of the mapping, the
 * forward pass ({@link io.streamingllm.local.model.Transformer}: one token, or a chunked batch prefill; RoPE and
 * attention, sliding-window layers included, in {@code Attention}),
 * the StreamingLLM KV cache ({@link io.streamingllm.local.model.KvCache}: sinks + recent ring, window,
 * dense) and the {@link io.streamingllm.local.model.Sampler} (greedy, temperature, top-k, top-p, seed;
 * nothing allocated per token). {@link io.streamingllm.local.model.LoadedModel} ties them to one file.
 * A transformer, a cache and a sampler serve one generation at a time: the engine runs them all on its
 * worker thread.
 */
package io.streamingllm.local.model;
