/**
 * What one client, or many, may take of the sidecar ({@link io.streamingllm.core.config.Limits}): connections
 * (503 beyond the cap, and never more accepted than the descriptor limit allows, so that running out of
 * descriptors cannot end the listener), WebSockets (close 1013), turns in flight per socket and per client address
 * (429 with {@code Retry-After}, or an error frame), and read timeouts for clients that send half a request.
 */
package io.streamingllm.server.limits;
