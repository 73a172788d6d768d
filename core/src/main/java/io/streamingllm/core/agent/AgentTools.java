package io.streamingllm.core.agent;

import io.streamingllm.core.engine.ToolDefinition;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An agent's {@code tools}: a list of {@code {name, description, parameters}}, the parameters a JSON schema of an
 * object. Read from the front matter's YAML or from the JSON of {@code PUT /agents/{id}} through the same checks,
 * each refusal an {@link IllegalArgumentException} whose message starts with the field it names
 * ({@code tools[1].parameters.type …}).
 */
public final class AgentTools {
    /** OpenAI's rule for function names, which upstreams enforce. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private AgentTools() {
    }

    /** The tools a JSON value declares; none for null. */
    public static List<ToolDefinition> fromJson(JsonValue tools) {
        if (tools == null || tools.getValueType() == JsonValue.ValueType.NULL) {
            return List.of();
        }
        if (!(tools instanceof JsonArray list)) {
            throw new IllegalArgumentException("tools must be a list of {name, description, parameters}");
        }
        List<ToolDefinition> out = new ArrayList<>();
        for (JsonValue t : list) {
            String at = "tools[" + out.size() + "]";
            if (!(t instanceof JsonObject tool)) {
                throw new IllegalArgumentException(at + " must be a mapping {name, description, parameters}");
            }
            for (String key : tool.keySet()) {
                if (!key.equals("name") && !key.equals("description") && !key.equals("parameters")) {
                    throw new IllegalArgumentException(at + "." + key + " is not a tool field (name, description, parameters)");
                }
            }
            if (!(tool.get("name") instanceof JsonString name) || !NAME.matcher(name.getString()).matches()) {
                throw new IllegalArgumentException(at + ".name must be a string of 1 to 64 letters, digits, _, . or -");
            }
            JsonValue description = tool.get("description");
            if (description != null && description.getValueType() != JsonValue.ValueType.NULL
                    && !(description instanceof JsonString)) {
                throw new IllegalArgumentException(at + ".description must be a string");
            }
            JsonObject parameters = parameters(tool.get("parameters"), at + ".parameters");
            if (out.stream().anyMatch(d -> d.name().equals(name.getString()))) {
                throw new IllegalArgumentException(at + ".name " + name.getString() + " is declared twice");
            }
            out.add(new ToolDefinition(name.getString(), description instanceof JsonString d ? d.getString() : "",
                    parameters));
        }
        return out;
    }

    /** The tools a YAML value (as SnakeYAML's safe constructor builds it) declares; none for null. */
    public static List<ToolDefinition> fromYaml(Object tools) {
        return fromJson(toJson(tools, "tools"));
    }

    /** The tools as JSON, the shape {@link #fromJson} reads. */
    public static JsonArray toJson(List<ToolDefinition> tools) {
        JsonArrayBuilder a = Json.createArrayBuilder();
        for (ToolDefinition d : tools) {
            a.add(Json.createObjectBuilder().add("name", d.name()).add("description", d.description())
                    .add("parameters", d.parameters()));
        }
        return a.build();
    }

    /** The tools as plain maps and lists, for the front matter's YAML. */
    static List<Object> toYaml(List<ToolDefinition> tools) {
        List<Object> out = new ArrayList<>();
        for (ToolDefinition d : tools) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("description", d.description());
            m.put("parameters", plain(d.parameters()));
            out.add(m);
        }
        return out;
    }

    /** A JSON schema of an object: a mapping whose {@code type}, when given, is "object". */
    private static JsonObject parameters(JsonValue v, String at) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return JsonValue.EMPTY_JSON_OBJECT;
        }
        if (!(v instanceof JsonObject schema)) {
            throw new IllegalArgumentException(at + " must be a JSON schema (a mapping)");
        }
        if (schema.get("type") != null && !(schema.get("type") instanceof JsonString type && type.getString().equals("object"))) {
            throw new IllegalArgumentException(at + ".type must be \"object\": a tool's arguments are an object");
        }
        JsonValue properties = schema.get("properties");
        if (properties != null && !(properties instanceof JsonObject)) {
            throw new IllegalArgumentException(at + ".properties must be a mapping of argument names to schemas");
        }
        if (properties instanceof JsonObject props) {
            for (Map.Entry<String, JsonValue> p : props.entrySet()) {
                if (!(p.getValue() instanceof JsonObject)) {
                    throw new IllegalArgumentException(at + ".properties." + p.getKey() + " must be a schema (a mapping)");
                }
            }
        }
        JsonValue required = schema.get("required");
        if (required != null && !(required instanceof JsonArray r && r.stream().allMatch(JsonString.class::isInstance))) {
            throw new IllegalArgumentException(at + ".required must be a list of argument names");
        }
        return schema;
    }

    private static JsonValue toJson(Object v, String at) {
        if (v == null) {
            return JsonValue.NULL;
        }
        if (v instanceof String s) {
            return Json.createValue(s);
        }
        if (v instanceof Boolean b) {
            return b ? JsonValue.TRUE : JsonValue.FALSE;
        }
        if (v instanceof Integer || v instanceof Long) {
            return Json.createValue(((Number) v).longValue());
        }
        if (v instanceof BigInteger b) {
            return Json.createValue(b);
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException(at + " is not a JSON number: " + d);
            }
            return Json.createValue(d);
        }
        if (v instanceof List<?> list) {
            JsonArrayBuilder a = Json.createArrayBuilder();
            for (int i = 0; i < list.size(); i++) {
                a.add(toJson(list.get(i), at + "[" + i + "]"));
            }
            return a.build();
        }
        if (v instanceof Map<?, ?> map) {
            JsonObjectBuilder o = Json.createObjectBuilder();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException(at + " has a key that is not a string: " + e.getKey());
                }
                o.add(key, toJson(e.getValue(), at + "." + key));
            }
            return o.build();
        }
        throw new IllegalArgumentException(at + " holds a " + v.getClass().getSimpleName()
                + ", which JSON has no value for (write dates and the like as strings)");
    }

    private static Object plain(JsonValue v) {
        return switch (v.getValueType()) {
            case OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                v.asJsonObject().forEach((k, x) -> m.put(k, plain(x)));
                yield m;
            }
            case ARRAY -> v.asJsonArray().stream().map(AgentTools::plain).toList();
            case STRING -> ((JsonString) v).getString();
            case NUMBER -> {
                JsonNumber n = (JsonNumber) v;
                if (n.isIntegral()) {
                    BigInteger b = n.bigIntegerValue();
                    yield b.bitLength() < 64 ? (Object) b.longValue() : b;
                }
                BigDecimal d = n.bigDecimalValue();
                yield d.doubleValue();
            }
            case TRUE -> true;
            case FALSE -> false;
            case NULL -> null;
        };
    }
}
