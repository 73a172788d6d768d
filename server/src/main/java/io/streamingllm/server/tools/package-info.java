/**
 * Tool calling on the HTTP APIs: reading {@code tools} and the messages that carry calls and results (OpenAI's and
 * Ollama's shapes, which differ only in the arguments' form and the result's reference), each refusal a 400 naming
 * the field; and writing a call back in either shape.
 */
package io.streamingllm.server.tools;
