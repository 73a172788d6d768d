/**
 * Tokenizers built from GGUF metadata, matching llama.cpp: {@link io.streamingllm.local.tokenizer.Tokenizer#fromGguf}
 * picks SentencePiece BPE ({@code llama}) or byte-level BPE ({@code gpt2}); {@link
 * io.streamingllm.local.tokenizer.StreamingDecoder} turns generated ids into text deltas.
 */
package io.streamingllm.local.tokenizer;
