/**
 * The OpenAI-compatible API under {@code /v1}, so that OpenAI's SDKs and the frameworks built on them (LangChain4j,
 * LangChain, LlamaIndex, Spring AI, the Vercel AI SDK, Open WebUI) can point their base URL at the sidecar.
 *
 * <p>Design:
 * <ul>
 *   <li>One relay path. {@link io.streamingllm.server.openai.OpenAiChat} parses the request
 *       ({@link io.streamingllm.server.openai.OpenAiRequest}) into the engine's messages and options and hands it to
 *       the same {@link io.streamingllm.server.stream.ChatRelay} as {@code /api/chat}: the window (sink = the system
 *       and developer messages, then the summary, then the recent messages) is applied to the client's history,
 *       {@code X-Conversation-Id} logs the call as that conversation's turn, and the
 *       {@link io.streamingllm.server.stream.TokenOutbox} keeps the engine's thread from ever waiting on a client.
 *       Only the wire format differs ({@link io.streamingllm.server.openai.OpenAiFormat}): each token's SSE record
 *       is two strings made once per reply around the quoted delta, so {@code /v1} costs what the other relays do.</li>
 *   <li>The client posts its whole history on every call: a plain chat body's messages are read straight from its
 *       bytes ({@link io.streamingllm.server.openai.PlainChatBody}) and only the rest of the body goes to the JSON
 *       parser; any body outside that plain subset takes the full reading, so requests and refusals are the same.</li>
 *   <li>Context is never dropped silently: {@code X-Context-Tokens} and {@code X-Context-Evicted-Turns} on every
 *       reply, and a {@code streaming_llm} object in the record with the finish reason.</li>
 *   <li>The request's {@code model} reaches the engine. An upstream that serves many models (Ollama, an
 *       OpenAI-compatible server) gets it as is; an engine that serves one (echo, local) refuses another. Either
 *       way a named model the engine lacks is 404 {@code model_not_found}; a stream is committed only at its first
 *       token (or after one heartbeat interval), so such refusals keep their status.</li>
 *   <li>Errors are OpenAI's {@code {"error":{"message","type","param","code"}}} on every path under {@code /v1}
 *       (unknown routes, 401, 405, 413 and malformed JSON included), chosen by path in
 *       {@link io.streamingllm.server.edge.ErrorBodies}; 429 carries {@code Retry-After}.</li>
 *   <li>Not yet: tool calls (the {@code tool} role is accepted as a message), {@code n} above 1, logprobs, image
 *       and audio parts (400 naming the part type).</li>
 * </ul>
 */
package io.streamingllm.server.openai;
