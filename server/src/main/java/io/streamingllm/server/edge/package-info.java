/**
 * What every request passes through before and after its feature: CORS, the bearer token, paths the sidecar
 * never serves, the body limit, and the mapping of every refusal and failure to the JSON
 * {@code {"error","detail"}} with its status ({@link io.streamingllm.server.edge.Errors}).
 */
package io.streamingllm.server.edge;
