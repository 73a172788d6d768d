package io.streamingllm.server.ollama;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.ollama.UpstreamResponse;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.RelayRequest;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.TurnMeter;
import io.streamingllm.server.stream.StreamSettings;
import io.streamingllm.server.stream.TurnStreamer;
import jakarta.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * The Ollama-compatible API, so Ollama clients (CLI, ollama-js, LangChain, Open WebUI) can point at the sidecar.
 * {@code /api/chat} and {@code /api/generate} stream NDJSON records by default and answer one object for
 * {@code "stream": false}; the window is applied to the client's messages; {@code X-Conversation-Id} makes the
 * call a logged conversation. {@code /api/tags}, {@code /api/version}, {@code /api/show} are passed through to
 * Ollama for the Ollama engine and synthesised for the echo and local engines.
 */
public final class OllamaApi implements HttpService {
    static final String VERSION = "0.9.0";

    private final ChatService chat;
    private final ModelEngine engine;
    private final EngineGate gate;
    private final Metrics metrics;
    private final StreamSettings settings;
    private final Optional<OllamaEngine> upstream;
    private final Instant started = Instant.now();

    public OllamaApi(ChatService chat, ModelEngine engine, EngineGate gate, Metrics metrics, StreamSettings settings,
                     Optional<OllamaEngine> upstream) {
        this.chat = chat;
        this.engine = engine;
        this.gate = gate;
        this.metrics = metrics;
        this.settings = settings;
        this.upstream = upstream;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/api/chat", (req, res) -> relay(req, res, true))
                .any("/api/chat", Errors.methodNotAllowed("POST"))
                .post("/api/generate", (req, res) -> relay(req, res, false))
                .any("/api/generate", Errors.methodNotAllowed("POST"))
                .get("/api/tags", this::tags)
                .any("/api/tags", Errors.methodNotAllowed("GET"))
                .get("/api/version", this::version)
                .any("/api/version", Errors.methodNotAllowed("GET"))
                .post("/api/show", this::show)
                .any("/api/show", Errors.methodNotAllowed("POST"));
    }

    private void relay(ServerRequest req, ServerResponse res, boolean chatApi) {
        OllamaRequest request = OllamaRequest.parse(RequestBody.jsonObject(req), chatApi, engine.model());
        String conversation = req.headers().first(io.helidon.http.HeaderNames.create("X-Conversation-Id"))
                .map(id -> Ids.require("conversation", id.trim())).orElse(null);
        gate.requireReady();

        OllamaFormat format = new OllamaFormat(request.model(), chatApi);
        if (request.stream()) {
            TurnStreamer streamer = new TurnStreamer(settings);
            TurnMeter meter = new TurnMeter(metrics, streamer);
            Turn turn = start(new RelayRequest(request.messages(), conversation, request.options()), meter);
            streamer.stream(turn, res, format);
            return;
        }
        StringBuilder text = new StringBuilder();
        TurnMeter meter = new TurnMeter(metrics, text::append);
        Turn turn = start(new RelayRequest(request.messages(), conversation, request.options()), meter);
        TurnResult result;
        try {
            result = turn.result().join();
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

    private void tags(ServerRequest req, ServerResponse res) {
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("GET", "/api/tags", null));
            return;
        }
        Responses.json(res, 200, "{\"models\":[" + modelEntry() + "]}");
    }

    private void version(ServerRequest req, ServerResponse res) {
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("GET", "/api/version", null));
            return;
        }
        Responses.json(res, 200, "{\"version\":\"" + VERSION + "\"}");
    }

    private void show(ServerRequest req, ServerResponse res) {
        JsonObject body = RequestBody.jsonObject(req);
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("POST", "/api/show", Responses.write(body).getBytes(StandardCharsets.UTF_8)));
            return;
        }
        JsonFields fields = JsonFields.of(body, "");
        String name = fields.string("model").or(() -> fields.string("name")).orElse(engine.model());
        if (!name.equals(engine.model()) && !name.equals(engine.model() + ":latest")) {
            throw new ApiException(404, "not_found", "model '" + name + "' not found; this sidecar serves "
                    + engine.model());
        }
        Responses.json(res, 200, JSON.createObjectBuilder()
                .add("modelfile", "# served by the streaming-llm sidecar (" + engine.engineName() + " engine)\nFROM "
                        + engine.model() + "\n")
                .add("parameters", "")
                .add("template", "{{ .Prompt }}")
                .add("details", details())
                .add("model_info", JSON.createObjectBuilder().add("general.architecture", engine.engineName()))
                .add("capabilities", JSON.createArrayBuilder().add("completion"))
                .add("modified_at", started.toString())
                .build());
    }

    private String modelEntry() {
        return JSON.createObjectBuilder()
                .add("name", engine.model())
                .add("model", engine.model())
                .add("modified_at", started.toString())
                .add("size", 0)
                .add("digest", sha256(engine.engineName() + ":" + engine.model()))
                .add("details", details())
                .build().toString();
    }

    private JsonObject details() {
        return JSON.createObjectBuilder()
                .add("parent_model", "")
                .add("format", engine.engineName().equals("local") ? "gguf" : engine.engineName())
                .add("family", engine.engineName())
                .add("families", JSON.createArrayBuilder().add(engine.engineName()))
                .add("parameter_size", "")
                .add("quantization_level", "")
                .build();
    }

    private static void pass(ServerResponse res, UpstreamResponse answer) {
        res.status(answer.status()).header(io.helidon.http.HeaderNames.CONTENT_TYPE, answer.contentType())
                .send(answer.body());
    }

    private static String sha256(String s) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
