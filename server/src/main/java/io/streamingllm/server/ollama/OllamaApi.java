package io.streamingllm.server.ollama;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.ollama.UpstreamResponse;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.RelayRequest;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.chat.TurnMeter;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.Limits;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.http.StreamSettings;
import io.streamingllm.server.http.TurnStreamer;
import io.streamingllm.server.metrics.Metrics;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * The Ollama-compatible API, so Ollama clients (CLI, ollama-js, LangChain, Open WebUI) can point at the sidecar.
 * {@code /api/chat} and {@code /api/generate} stream NDJSON records by default and answer one object for
 * {@code "stream": false}; {@code format} ({@code "json"} or a JSON schema) reaches the engine, which refuses with 400
 * what it cannot enforce; the window is applied to the client's messages; {@code X-Conversation-Id} makes the
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
        JsonObject body = Limits.jsonObject(req);
        String model = optionalString(body, "model").orElse(engine.model());
        List<ChatMessage> messages = chatApi ? messages(body) : prompt(body);
        GenerationOptions options = options(body.get("options")).withFormat(format(body.get("format")));
        boolean stream = booleanField(body, "stream", true);
        String conversation = req.headers().first(io.helidon.http.HeaderNames.create("X-Conversation-Id"))
                .map(id -> Ids.require("conversation", id.trim())).orElse(null);
        gate.requireReady();

        OllamaFormat format = new OllamaFormat(model, chatApi);
        if (stream) {
            TurnStreamer streamer = new TurnStreamer(settings.bufferedTokens(), settings.heartbeat());
            TurnMeter meter = new TurnMeter(metrics, streamer);
            Turn turn = start(new RelayRequest(messages, conversation, options), meter);
            streamer.stream(turn, res, format);
            return;
        }
        StringBuilder text = new StringBuilder();
        TurnMeter meter = new TurnMeter(metrics, text::append);
        Turn turn = start(new RelayRequest(messages, conversation, options), meter);
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
        JsonObject body = Limits.jsonObject(req);
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("POST", "/api/show", Responses.write(body).getBytes(StandardCharsets.UTF_8)));
            return;
        }
        String name = optionalString(body, "model").or(() -> optionalString(body, "name")).orElse(engine.model());
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

    static List<ChatMessage> messages(JsonObject body) {
        JsonValue v = body.get("messages");
        if (v == null || v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw ApiException.badRequest("messages must be an array of {role, content}");
        }
        List<ChatMessage> out = new ArrayList<>();
        int i = 0;
        for (JsonValue m : v.asJsonArray()) {
            if (m.getValueType() != JsonValue.ValueType.OBJECT) {
                throw ApiException.badRequest("messages[" + i + "] must be an object {role, content}");
            }
            JsonObject o = m.asJsonObject();
            int index = i;
            String role = optionalString(o, "role").orElseThrow(
                    () -> ApiException.badRequest("messages[" + index + "].role must be a string"));
            String content = optionalString(o, "content").orElse("");
            try {
                out.add(new ChatMessage(ChatMessage.Role.fromWire(role), content));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("messages[" + i + "]: " + e.getMessage()
                        + " (system, user and assistant are supported)");
            }
            i++;
        }
        if (out.isEmpty()) {
            throw ApiException.badRequest("messages is empty");
        }
        return out;
    }

    static List<ChatMessage> prompt(JsonObject body) {
        String prompt = optionalString(body, "prompt").orElseThrow(
                () -> ApiException.badRequest("prompt must be a string"));
        List<ChatMessage> out = new ArrayList<>(2);
        optionalString(body, "system").filter(s -> !s.isEmpty()).ifPresent(s -> out.add(ChatMessage.system(s)));
        out.add(ChatMessage.user(prompt));
        return out;
    }

    static GenerationOptions options(JsonValue v) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return GenerationOptions.DEFAULTS;
        }
        if (v.getValueType() != JsonValue.ValueType.OBJECT) {
            throw ApiException.badRequest("options must be an object");
        }
        JsonObject o = v.asJsonObject();
        Double temperature = o.get("temperature") instanceof JsonNumber n ? n.doubleValue() : null;
        if (o.containsKey("temperature") && temperature == null && o.get("temperature") != JsonValue.NULL) {
            throw ApiException.badRequest("options.temperature must be a number");
        }
        Integer numPredict = null;
        if (o.get("num_predict") instanceof JsonNumber n) {
            if (!n.isIntegral()) {
                throw ApiException.badRequest("options.num_predict must be an integer");
            }
            numPredict = n.longValue() > 0 ? (int) Math.min(n.longValue(), 1 << 20) : null;
        } else if (o.containsKey("num_predict") && o.get("num_predict") != JsonValue.NULL) {
            throw ApiException.badRequest("options.num_predict must be an integer");
        }
        Long seed = o.get("seed") instanceof JsonNumber n ? n.longValue() : null;
        List<String> stop = List.of();
        if (o.get("stop") instanceof JsonString s) {
            stop = List.of(s.getString());
        } else if (o.get("stop") != null && o.get("stop").getValueType() == JsonValue.ValueType.ARRAY) {
            stop = o.get("stop").asJsonArray().stream().filter(e -> e instanceof JsonString)
                    .map(e -> ((JsonString) e).getString()).toList();
        }
        return new GenerationOptions(temperature, numPredict, seed, stop, null, null);
    }

    /** Ollama's {@code format}: {@code "json"} or a JSON schema (the engine refuses, 400, what it cannot enforce). */
    static ResponseFormat format(JsonValue v) {
        try {
            return ResponseFormat.fromOllama(v);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    static Optional<String> optionalString(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return Optional.empty();
        }
        if (!(v instanceof JsonString s)) {
            throw ApiException.badRequest(key + " must be a string");
        }
        return Optional.of(s.getString());
    }

    static boolean booleanField(JsonObject o, String key, boolean fallback) {
        JsonValue v = o.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return fallback;
        }
        if (v.getValueType() == JsonValue.ValueType.TRUE) {
            return true;
        }
        if (v.getValueType() == JsonValue.ValueType.FALSE) {
            return false;
        }
        throw ApiException.badRequest(key + " must be a boolean");
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
