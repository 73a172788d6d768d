package io.streamingllm.server.tools;

import io.streamingllm.server.edge.ApiException;

/** How an API refuses a field: OpenAI names it as {@code param}, Ollama in the message only. */
@FunctionalInterface
public interface Refusal {
    ApiException refuse(String field, String message);

    Refusal OPENAI = ApiException::badParam;
    Refusal OLLAMA = (field, message) -> ApiException.badRequest(message);
}
