/**
 * Reading what clients send and writing JSON answers, the same way in every feature: typed fields of JSON bodies
 * and frames ({@link io.streamingllm.server.http.JsonFields}), typed query parameters
 * ({@link io.streamingllm.server.http.QueryParams}), each refusal a 400 naming the field.
 */
package io.streamingllm.server.http;
