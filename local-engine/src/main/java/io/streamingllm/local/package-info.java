/** Pure-Java GGUF inference (llama, qwen2) with a StreamingLLM attention-sink KV cache. */
package io.streamingllm.local;
