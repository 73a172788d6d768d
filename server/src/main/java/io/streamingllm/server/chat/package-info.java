/**
 * Conversations: turns over WebSocket ({@link io.streamingllm.server.chat.WsChat}) and over HTTP as SSE or NDJSON
 * ({@link io.streamingllm.server.chat.ConversationRoutes}), both from the same turn fields
 * ({@link io.streamingllm.server.chat.TurnInput}); the conversation resources, and the log queried across
 * conversations ({@link io.streamingllm.server.chat.EventRoutes}).
 */
package io.streamingllm.server.chat;
