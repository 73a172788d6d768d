/** Full-text search over the conversations' logs ({@link io.streamingllm.server.search.SearchRoutes}). */
package io.streamingllm.server.search;
