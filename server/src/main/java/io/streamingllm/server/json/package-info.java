/**
 * JSON text: parsing a client's object with a one-line reason when it is not one, and quoting strings by hand on
 * the per-token path, where a JSON builder per token would cost allocations.
 */
package io.streamingllm.server.json;
