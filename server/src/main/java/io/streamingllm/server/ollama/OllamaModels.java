package io.streamingllm.server.ollama;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.ollama.UpstreamResponse;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.http.Responses;
import jakarta.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * What Ollama's clients ask about models ({@code /tags}, {@code /version}, {@code /show} under {@code /api}):
 * passed through to Ollama for the Ollama engine, synthesised from the engine otherwise (echo, local), so that
 * clients which check the model before chatting find the one this sidecar serves.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class OllamaModels implements HttpService {
    static final String VERSION = "0.9.0";

    private final ModelEngine engine;
    private final Supplier<Optional<OllamaEngine>> upstreams;
    private final Instant started = Instant.now();

    /** {@code upstreams}: the Ollama to pass model questions to, asked per request (a pool answers one that is up). */
    public OllamaModels(ModelEngine engine, Supplier<Optional<OllamaEngine>> upstreams) {
        this.engine = engine;
        this.upstreams = upstreams;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/tags", this::tags)
                .any("/tags", Errors.methodNotAllowed("GET"))
                .get("/version", this::version)
                .any("/version", Errors.methodNotAllowed("GET"))
                .post("/show", this::show)
                .any("/show", Errors.methodNotAllowed("POST"));
    }

    private void tags(ServerRequest req, ServerResponse res) {
        Optional<OllamaEngine> upstream = upstreams.get();
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("GET", "/api/tags", null));
            return;
        }
        Responses.json(res, 200, "{\"models\":[" + modelEntry() + "]}");
    }

    private void version(ServerRequest req, ServerResponse res) {
        Optional<OllamaEngine> upstream = upstreams.get();
        if (upstream.isPresent()) {
            pass(res, upstream.get().forward("GET", "/api/version", null));
            return;
        }
        Responses.json(res, 200, "{\"version\":\"" + VERSION + "\"}");
    }

    private void show(ServerRequest req, ServerResponse res) {
        JsonObject body = RequestBody.jsonObject(req);
        Optional<OllamaEngine> upstream = upstreams.get();
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
        res.status(answer.status()).header(HeaderNames.CONTENT_TYPE, answer.contentType()).send(answer.body());
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
