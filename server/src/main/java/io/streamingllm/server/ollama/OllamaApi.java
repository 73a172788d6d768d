package io.streamingllm.server.ollama;

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
 * The Ollama-compatible chat, mounted at {@code /api}, so Ollama clients (CLI, ollama-js, LangChain, Open WebUI)
 * can point at the sidecar. {@code POST /chat} and {@code POST /generate} stream NDJSON records by default and
 * answer one object for {@code "stream": false}; the window is applied to the client's messages;
 * {@code X-Conversation-Id} makes the call a logged conversation; the model a request names reaches the engine
 * (404 when it has no such model). The relay itself is {@link ChatRelay}; the model routes are {@link OllamaModels}.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class OllamaApi implements HttpService {
    private final ChatRelay relay;
    private final ModelEngine engine;

    public OllamaApi(ChatRelay relay, ModelEngine engine) {
        this.relay = relay;
        this.engine = engine;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat", (req, res) -> relay(req, res, true))
                .any("/chat", Errors.methodNotAllowed("POST"))
                .post("/generate", (req, res) -> relay(req, res, false))
                .any("/generate", Errors.methodNotAllowed("POST"));
    }

    private void relay(ServerRequest req, ServerResponse res, boolean chatApi) {
        OllamaRequest request = OllamaRequest.parse(RequestBody.jsonObject(req), chatApi, engine.model());
        OllamaFormat format = new OllamaFormat(request.model(), chatApi);
        if (request.stream()) {
            relay.stream(req, res, request.messages(), request.options(), turn -> format);
            return;
        }
        ChatRelay.Reply reply = relay.whole(req, request.messages(), request.options());
        StringBuilder out = new StringBuilder(reply.text().length() + 256);
        format.whole(out, reply.result(), reply.text(), reply.toolCalls());
        ChatRelay.headers(res, reply);
        Responses.json(res, 200, out.toString());
    }
}
