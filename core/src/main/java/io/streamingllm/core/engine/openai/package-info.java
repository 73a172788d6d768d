/**
 * The engine for an OpenAI-compatible upstream ({@code STREAMING_LLM_MODEL=openai:NAME}): llama-server, vLLM, SGLang,
 * LM Studio or a hosted API, at {@code STREAMING_LLM_OPENAI_URL} with {@code STREAMING_LLM_OPENAI_API_KEY}.
 *
 * <p>{@link io.streamingllm.core.engine.openai.OpenAiEngine} sends {@code POST /chat/completions} streamed
 * ({@code ChatCompletionRequest} writes the body); {@code OpenAiGeneration} is one call's lifecycle (cancel, idle
 * timeout, one retry of a short 429, settle once) over the shared line splitter
 * {@link io.streamingllm.core.engine.http.NdjsonBody}; {@code ChatChunk} reads the server-sent events;
 * {@code OpenAiErrors} turns HTTP statuses and error bodies of OpenAI, vLLM and llama-server into typed failures
 * (bad key, unknown model, rate limit, context length, …) whose texts never contain the key.
 *
 * <p>Threads: as the Ollama engine, each streamed call read by its own virtual thread (listeners are called there and
 * should only enqueue), one timer thread, results completed on virtual threads.
 */
package io.streamingllm.core.engine.openai;
