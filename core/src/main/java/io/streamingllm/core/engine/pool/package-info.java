/**
 * Several inference servers of one kind behind one engine: {@link io.streamingllm.core.engine.pool.UpstreamPool}
 * places each conversation by rendezvous hashing with bounded load (so its turns keep reaching the upstream that
 * holds its prefix cache), takes failing upstreams out with backoff, and retries a turn on the next upstream while
 * no token has reached the client.
 */
package io.streamingllm.core.engine.pool;
