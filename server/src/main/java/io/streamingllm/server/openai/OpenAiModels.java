package io.streamingllm.server.openai;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.json.JsonText;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * OpenAI's model routes under {@code /v1}: {@code GET /models} and {@code GET /models/{id}} from the engine's
 * models (the upstream's for an HTTP upstream, the loaded one otherwise), and {@code POST /embeddings} passed to
 * the engine (400 where it has none, 404 for a model it does not have).
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class OpenAiModels implements HttpService {
    private final ModelEngine engine;

    public OpenAiModels(ModelEngine engine) {
        this.engine = engine;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/models", this::list)
                .any("/models", Errors.methodNotAllowed("GET"))
                .get("/models/{+id}", this::one)
                .any("/models/{+id}", Errors.methodNotAllowed("GET"))
                .post("/embeddings", this::embeddings)
                .any("/embeddings", Errors.methodNotAllowed("POST"));
    }

    private void list(ServerRequest req, ServerResponse res) {
        StringBuilder out = new StringBuilder("{\"object\":\"list\",\"data\":[");
        List<ModelInfo> models = engine.models();
        for (int i = 0; i < models.size(); i++) {
            model(i > 0 ? out.append(',') : out, models.get(i));
        }
        Responses.json(res, 200, out.append("]}").toString());
    }

    private void one(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        ModelInfo found = engine.models().stream().filter(m -> ModelInfo.sameModel(m.id(), id)).findFirst()
                .orElseThrow(() -> new ApiException(404, "model_not_found", "model '" + id + "' does not exist here",
                        "model", null));
        Responses.json(res, 200, model(new StringBuilder(), found).toString());
    }

    private static StringBuilder model(StringBuilder out, ModelInfo m) {
        out.append("{\"id\":");
        JsonText.quoteInto(out, m.id());
        out.append(",\"object\":\"model\",\"created\":").append(m.createdSeconds()).append(",\"owned_by\":");
        JsonText.quoteInto(out, m.ownedBy());
        return out.append('}');
    }

    private void embeddings(ServerRequest req, ServerResponse res) {
        JsonObject body = RequestBody.jsonObject(req);
        JsonFields fields = JsonFields.of(body, "");
        String model = fields.string("model").filter(m -> !m.isBlank()).orElse(null);
        String encoding = fields.string("encoding_format").orElse("float");
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiException.badParam("encoding_format", "encoding_format must be float or base64, got " + encoding);
        }
        List<String> inputs = inputs(body.get("input"));
        Embeddings e;
        try {
            e = engine.embed(model, inputs);
        } catch (EngineException failure) {
            if (model != null && failure.kind() == EngineException.Kind.MODEL_NOT_FOUND) {
                throw new ApiException(404, "model_not_found", failure.getMessage(), "model", null);
            }
            throw failure;
        }
        StringBuilder out = new StringBuilder(256 + 12 * e.vectors().size() * 64);
        out.append("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < e.vectors().size(); i++) {
            out.append(i > 0 ? "," : "").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":");
            vector(out, e.vectors().get(i), encoding.equals("base64"));
            out.append('}');
        }
        out.append("],\"model\":");
        JsonText.quoteInto(out, e.model());
        out.append(",\"usage\":{\"prompt_tokens\":").append(e.promptTokens()).append(",\"total_tokens\":")
                .append(e.promptTokens()).append("}}");
        Responses.json(res, 200, out.toString());
    }

    /** {@code input}: a string or an array of strings (token arrays are not supported). */
    private static List<String> inputs(JsonValue v) {
        if (v instanceof JsonString s) {
            return List.of(s.getString());
        }
        if (v != null && v.getValueType() == JsonValue.ValueType.ARRAY && !v.asJsonArray().isEmpty()) {
            List<String> out = new ArrayList<>();
            for (JsonValue e : v.asJsonArray()) {
                if (!(e instanceof JsonString s)) {
                    throw ApiException.badParam("input", "input must be a string or an array of strings "
                            + "(token arrays are not supported)");
                }
                out.add(s.getString());
            }
            return out;
        }
        throw ApiException.badParam("input", "input must be a string or a non-empty array of strings");
    }

    /** A JSON array of numbers, or OpenAI's base64 of little-endian float32s. */
    private static void vector(StringBuilder out, float[] v, boolean base64) {
        if (base64) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                b.putFloat(f);
            }
            out.append('"').append(Base64.getEncoder().encodeToString(b.array())).append('"');
            return;
        }
        out.append('[');
        for (int i = 0; i < v.length; i++) {
            out.append(i > 0 ? "," : "").append(v[i]);
        }
        out.append(']');
    }
}
