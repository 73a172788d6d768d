package io.streamingllm.server.ollama;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.RelayRequest;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.limits.ClientGone;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.TurnMeter;
import io.streamingllm.server.stream.StreamSettings;
import io.streamingllm.server.stream.TurnStreamer;

/**
 * The Ollama-compatible chat, mounted at {@code /api}, so Ollama clients (CLI, ollama-js, LangChain, Open WebUI)
 * can point at the sidecar. {@code POST /chat} and {@code POST /generate} stream NDJSON records by default and
 * answer one object for {@code "stream": false}; the window is applied to the client's messages;
 * {@code X-Conversation-Id} makes the call a logged conversation. The model routes are {@link OllamaModels}.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class OllamaApi implements HttpService {
    private static final HeaderName CONVERSATION_ID = HeaderNames.create("X-Conversation-Id");

    private final ChatService chat;
    private final ModelEngine engine;
    private final EngineGate gate;
    private final Metrics metrics;
    private final StreamSettings settings;

    public OllamaApi(ChatService chat, ModelEngine engine, EngineGate gate, Metrics metrics, StreamSettings settings) {
        this.chat = chat;
        this.engine = engine;
        this.gate = gate;
        this.metrics = metrics;
        this.settings = settings;
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
        String conversation = req.headers().first(CONVERSATION_ID)
                .map(id -> Ids.require("conversation", id.trim())).orElse(null);
        gate.requireReady();

        RelayRequest relay = new RelayRequest(request.messages(), conversation, request.options());
        OllamaFormat format = new OllamaFormat(request.model(), chatApi);
        if (request.stream()) {
            TurnStreamer streamer = new TurnStreamer(settings);
            Turn turn = start(relay, new TurnMeter(metrics, streamer));
            streamer.stream(turn, res, format);
            return;
        }
        StringBuilder text = new StringBuilder();
        Turn turn = start(relay, new TurnMeter(metrics, text::append));
        TurnResult result;
        try {
            result = ClientGone.await(req, turn.result(), turn::cancel);
        } catch (RuntimeException e) {
            ApiException api = Errors.toApi(e);
            Responses.json(res, api.status(), Errors.body(api.error(), api.detail()));
            return;
        }
        StringBuilder out = new StringBuilder(text.length() + 256);
        format.whole(out, result, text.toString());
        if (turn.conversationId() != null) {
            res.header("X-Conversation-Id", turn.conversationId());
        }
        Responses.json(res, 200, out.toString());
    }

    private Turn start(RelayRequest request, TurnMeter meter) {
        try {
            Turn turn = chat.relay(request, meter);
            meter.follow(turn.result());
            return turn;
        } catch (RuntimeException e) {
            meter.refused();
            throw e;
        }
    }
}
