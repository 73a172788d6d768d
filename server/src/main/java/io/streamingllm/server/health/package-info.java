/**
 * The probes ({@code /healthz}, {@code /readyz}) and the gate that turns an engine that is not ready into a 503
 * before a turn starts.
 */
package io.streamingllm.server.health;
