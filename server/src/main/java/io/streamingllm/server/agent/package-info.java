/** Agents over HTTP: listing, reading, upserting and deleting the agent files of {@code core.agent}. */
package io.streamingllm.server.agent;
