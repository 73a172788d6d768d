/**
 * The echo engine ({@code STREAMING_LLM_MODEL=echo}): streams the last user message back word by word, one virtual
 * thread per generation, with an optional per-token delay. It needs no model and counts tokens exactly, which makes it
 * the engine for wiring checks, tests and load tests of everything but the model.
 */
package io.streamingllm.core.engine.echo;
