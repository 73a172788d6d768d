/**
 * The storage seam: what the sessions and the routes keep, behind small interfaces in their feature packages
 * ({@link io.streamingllm.core.log.EventStore}, {@link io.streamingllm.core.summary.SummaryRepository},
 * {@link io.streamingllm.core.agent.AgentRepository}) and, here, the cross-process turn locks
 * ({@link io.streamingllm.core.store.TurnLocks}) and the bundle a sidecar opens at start-up
 * ({@link io.streamingllm.core.store.Store}).
 *
 * <p>The files ({@link io.streamingllm.core.store.Store#files}) are the default: one process owns them (its data
 * directory is locked), so its turn locks are always granted and nothing else appends. A store that several
 * processes share (module {@code store-postgres}) says so ({@link io.streamingllm.core.log.EventStore#shared}):
 * the sessions then hold a conversation's cross-process lock for each turn (another process holding it is BUSY) and,
 * before each prompt, compare the conversation's newest event in the store with the last one they saw, reading the
 * conversation afresh when another process moved it on.
 */
package io.streamingllm.core.store;
