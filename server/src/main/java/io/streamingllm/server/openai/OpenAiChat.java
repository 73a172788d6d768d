package io.streamingllm.server.openai;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.stream.ChatRelay;

/**
 * OpenAI's generation routes under {@code /v1}: {@code POST /chat/completions} and {@code POST /completions},
 * streamed as SSE for {@code "stream": true} and answered whole otherwise, through the same relay as the
 * Ollama-compatible chat ({@link ChatRelay}): the window applied to the client's messages, {@code X-Conversation-Id}
 * for a logged turn, the window's effect in the headers and the final record.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class OpenAiChat implements HttpService {
    private final ChatRelay relay;
    private final ModelEngine engine;

    public OpenAiChat(ChatRelay relay, ModelEngine engine) {
        this.relay = relay;
        this.engine = engine;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat/completions", (req, res) -> relay(req, res, true))
                .any("/chat/completions", Errors.methodNotAllowed("POST"))
                .post("/completions", (req, res) -> relay(req, res, false))
                .any("/completions", Errors.methodNotAllowed("POST"));
    }

    private void relay(ServerRequest req, ServerResponse res, boolean chat) {
        OpenAiRequest request = chat ? OpenAiRequest.chat(RequestBody.bytes(req))
                : OpenAiRequest.completion(RequestBody.jsonObject(req));
        String model = request.model() == null ? engine.model() : request.model();
        if (request.stream()) {
            relay.stream(req, res, request.messages(), request.options(),
                    turn -> new OpenAiFormat(chat, model, request.includeUsage(), turn));
            return;
        }
        ChatRelay.Reply reply = relay.whole(req, request.messages(), request.options());
        String body = new OpenAiFormat(chat, model, false, reply.turn()).whole(reply.result(), reply.text(), reply.toolCalls());
        ChatRelay.headers(res, reply);
        Responses.json(res, 200, body);
    }
}
