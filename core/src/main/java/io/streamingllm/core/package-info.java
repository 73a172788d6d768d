/**
 * The StreamingLLM core library: endless, token-streaming conversations with bounded context, durable event logs
 * and rolling summaries, for embedding in an application or behind the {@code server} module.
 *
 * <p>Packages: {@code config} (the {@code STREAMING_LLM_*} variables), {@code agent} (markdown agents, the sink of
 * their conversations), {@code log} (durable per-conversation event logs with a write-ahead journal),
 * {@code summary} (rolling summary files), {@code session} (conversations, turns and the window; the event payload
 * schema in {@code session.payload}), {@code engine} (the model SPI) with {@code engine.ollama} and
 * {@code engine.echo}. This package holds what they share: ids that become file names
 * ({@link io.streamingllm.core.Ids}) and whole-file writes by temp file and atomic rename
 * ({@link io.streamingllm.core.AtomicFiles}).
 *
 * <p>Threads, in one place (each package's doc has the details): the caller's thread starts a turn and may block on
 * disk; the engine's thread calls the {@link io.streamingllm.core.engine.TokenListener}, which must not block; the
 * session's background virtual threads append a turn's events and complete its result once they are durable; the
 * event log's committer thread makes every queued append durable with one fdatasync, its checkpointer forces
 * conversation files when a journal segment fills.
 */
package io.streamingllm.core;
