package io.streamingllm.local.json;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Compiles the JSON schemas the local engine can enforce into a {@link JsonGrammar}; anything else is an
 * {@link IllegalArgumentException} naming the keyword and where it is.
 *
 * <table>
 * <caption>What is enforced</caption>
 * <tr><th>keywords</th><th>meaning</th></tr>
 * <tr><td>{@code type} (one or a list): object, array, string, number, integer, boolean, null</td><td>the value's
 *     kind; a list is a union ({@code ["string","null"]})</td></tr>
 * <tr><td>{@code properties}, {@code required}, {@code additionalProperties}</td><td>declared properties in
 *     order, required ones always present; without {@code properties}, {@code additionalProperties} gives the
 *     values of free keys ({@code false}: only {@code {}})</td></tr>
 * <tr><td>{@code items}, {@code minItems}, {@code maxItems}</td><td>arrays</td></tr>
 * <tr><td>{@code minLength}, {@code maxLength}</td><td>strings, in characters</td></tr>
 * <tr><td>{@code enum}, {@code const}</td><td>exactly these values</td></tr>
 * <tr><td>{@code $ref} to {@code #/$defs/NAME} or {@code #/definitions/NAME}</td><td>inlined (not recursive)</td></tr>
 * <tr><td>{@code title}, {@code description}, {@code default}, {@code examples}, {@code $schema}, {@code $id},
 *     {@code $comment}, … and keywords JSON Schema does not know</td><td>ignored (annotations)</td></tr>
 * </table>
 *
 * <p>Refused: {@code anyOf}, {@code oneOf}, {@code allOf}, {@code not}, conditionals, {@code pattern},
 * {@code format}, numeric bounds, property-count bounds, {@code patternProperties}, {@code prefixItems},
 * {@code contains}, {@code uniqueItems: true}, recursive {@code $ref}, … (see {@link #REFUSED}).
 */
final class SchemaCompiler {
    static final Set<String> REFUSED = Set.of("anyOf", "oneOf", "allOf", "not", "if", "then", "else", "pattern",
            "patternProperties", "propertyNames", "format", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "multipleOf", "minProperties", "maxProperties", "dependentRequired",
            "dependentSchemas", "dependencies", "prefixItems", "contains", "minContains", "maxContains",
            "unevaluatedProperties", "unevaluatedItems", "additionalItems", "contentEncoding", "contentMediaType",
            "contentSchema", "$dynamicRef", "$recursiveRef");
    private static final int MAX_NODES = 10_000;
    private static final int MAX_DEPTH = 24;
    private static final int MAX_ENUM = 1_000;

    private final JsonGrammar.Builder g = new JsonGrammar.Builder();
    private final JsonObject document;
    private final Set<String> expanding = new HashSet<>();
    private int any = -1;

    private SchemaCompiler(JsonObject document) {
        this.document = document;
    }

    /** Any JSON object: Ollama's {@code "json"}, OpenAI's {@code json_object}. */
    static JsonGrammar anyObject() {
        SchemaCompiler c = new SchemaCompiler(JsonValue.EMPTY_JSON_OBJECT);
        c.g.setRoot(c.g.freeObject(c.any()));
        return c.g.build();
    }

    /** A value valid against {@code schema}; {@link IllegalArgumentException} naming what cannot be enforced. */
    static JsonGrammar schema(JsonObject schema) {
        SchemaCompiler c = new SchemaCompiler(schema);
        c.g.setRoot(c.compile(schema, "#", 0));
        return c.g.build();
    }

    private int any() {
        if (any < 0) {
            int[] m = new int[JsonGrammar.U_SLOTS];
            int object = g.freeObject(-1);
            int array = g.array(0, JsonGrammar.UNBOUNDED);
            int bool = g.literals(List.of("true", "false"));
            m[JsonGrammar.U_OBJECT] = object;
            m[JsonGrammar.U_ARRAY] = array;
            m[JsonGrammar.U_STRING] = g.string(0, JsonGrammar.UNBOUNDED);
            m[JsonGrammar.U_NUMBER] = g.number(false);
            m[JsonGrammar.U_TRUE] = bool;
            m[JsonGrammar.U_FALSE] = bool;
            m[JsonGrammar.U_NULL] = g.literals(List.of("null"));
            any = g.union(m);
            // the free object's values and the array's items are any value again
            g.setItems(array, any);
            g.setFreeValue(object, any);
        }
        return any;
    }

    private static IllegalArgumentException refuse(String where, String what) {
        return new IllegalArgumentException("the local engine cannot enforce " + what + " at " + where
                + " of the JSON schema (it enforces type, properties, required, additionalProperties, items, "
                + "minItems, maxItems, minLength, maxLength, enum, const and local $ref)");
    }

    private int compile(JsonValue schema, String where, int depth) {
        if (g.size() > MAX_NODES) {
            throw new IllegalArgumentException("the JSON schema is too large for the local engine (over " + MAX_NODES
                    + " parts)");
        }
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("the JSON schema nests deeper than " + MAX_DEPTH + " levels at " + where);
        }
        if (schema == JsonValue.TRUE) {
            return any();
        }
        if (schema == JsonValue.FALSE) {
            throw new IllegalArgumentException("the schema at " + where + " is false: no value is valid");
        }
        if (!(schema instanceof JsonObject s)) {
            throw new IllegalArgumentException("the schema at " + where + " must be an object or a boolean");
        }
        for (String key : s.keySet()) {
            if (REFUSED.contains(key)) {
                throw refuse(where, "'" + key + "'");
            }
        }
        if (s.containsKey("$ref")) {
            return ref(s, where, depth);
        }
        if (s.get("uniqueItems") == JsonValue.TRUE) {
            throw refuse(where, "'uniqueItems'");
        }
        Set<String> types = types(s, where);
        if (s.containsKey("enum") || s.containsKey("const")) {
            return g.literals(literals(s, types, where));
        }
        if (types.isEmpty()) {
            if (s.containsKey("properties") || s.containsKey("required") || s.containsKey("additionalProperties")) {
                types = Set.of("object");
            } else if (s.containsKey("items") || s.containsKey("minItems") || s.containsKey("maxItems")) {
                types = Set.of("array");
            } else if (s.containsKey("minLength") || s.containsKey("maxLength")) {
                types = Set.of("string");
            } else {
                return any();
            }
        }
        int[] m = new int[JsonGrammar.U_SLOTS];
        Arrays.fill(m, -1);
        int count = 0, only = -1;
        for (String type : types) {
            int node = switch (type) {
                case "object" -> object(s, where, depth);
                case "array" -> array(s, where, depth);
                case "string" -> g.string(count(s, "minLength", 0, where), count(s, "maxLength", JsonGrammar.UNBOUNDED, where));
                case "number" -> g.number(false);
                case "integer" -> types.contains("number") ? -1 : g.number(true);
                case "boolean" -> g.literals(List.of("true", "false"));
                case "null" -> g.literals(List.of("null"));
                default -> throw new IllegalArgumentException("unknown type '" + type + "' at " + where);
            };
            if (node < 0) {
                continue;
            }
            switch (type) {
                case "object" -> m[JsonGrammar.U_OBJECT] = node;
                case "array" -> m[JsonGrammar.U_ARRAY] = node;
                case "string" -> m[JsonGrammar.U_STRING] = node;
                case "number", "integer" -> m[JsonGrammar.U_NUMBER] = node;
                case "boolean" -> {
                    m[JsonGrammar.U_TRUE] = node;
                    m[JsonGrammar.U_FALSE] = node;
                }
                default -> m[JsonGrammar.U_NULL] = node;
            }
            count++;
            only = node;
        }
        return count == 1 ? only : g.union(m);
    }

    private Set<String> types(JsonObject s, String where) {
        JsonValue t = s.get("type");
        Set<String> out = new LinkedHashSet<>();
        if (t == null) {
            return out;
        }
        if (t instanceof JsonString one) {
            out.add(one.getString());
        } else if (t instanceof JsonArray list && !list.isEmpty()) {
            for (JsonValue v : list) {
                if (!(v instanceof JsonString name)) {
                    throw new IllegalArgumentException("'type' at " + where + " must be a string or a list of strings");
                }
                out.add(name.getString());
            }
        } else {
            throw new IllegalArgumentException("'type' at " + where + " must be a string or a list of strings");
        }
        return out;
    }

    private List<String> literals(JsonObject s, Set<String> types, String where) {
        List<JsonValue> values = new ArrayList<>();
        if (s.containsKey("const")) {
            values.add(s.get("const"));
        }
        if (s.containsKey("enum")) {
            if (!(s.get("enum") instanceof JsonArray list) || list.isEmpty()) {
                throw new IllegalArgumentException("'enum' at " + where + " must be a non-empty array");
            }
            if (list.size() > MAX_ENUM) {
                throw new IllegalArgumentException("'enum' at " + where + " has more than " + MAX_ENUM + " values");
            }
            if (values.isEmpty()) {
                values.addAll(list);
            } else if (!list.contains(values.get(0))) {
                throw new IllegalArgumentException("'const' at " + where + " is not one of its 'enum' values");
            }
        }
        List<String> texts = new ArrayList<>();
        for (JsonValue v : values) {
            if (types.isEmpty() || types.contains(typeOf(v)) || (typeOf(v).equals("integer") && types.contains("number"))) {
                texts.add(v.toString());
            }
        }
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("no 'enum'/'const' value at " + where + " has the schema's type " + types);
        }
        return texts;
    }

    private static String typeOf(JsonValue v) {
        return switch (v.getValueType()) {
            case OBJECT -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case NUMBER -> ((JsonNumber) v).isIntegral() ? "integer" : "number";
            case TRUE, FALSE -> "boolean";
            case NULL -> "null";
        };
    }

    private int object(JsonObject s, String where, int depth) {
        JsonValue additional = s.get("additionalProperties");
        if (additional != null && additional.getValueType() != JsonValue.ValueType.TRUE
                && additional.getValueType() != JsonValue.ValueType.FALSE
                && additional.getValueType() != JsonValue.ValueType.OBJECT) {
            throw new IllegalArgumentException("'additionalProperties' at " + where + " must be a boolean or a schema");
        }
        Set<String> required = new LinkedHashSet<>();
        if (s.get("required") instanceof JsonArray list) {
            for (JsonValue v : list) {
                if (!(v instanceof JsonString name)) {
                    throw new IllegalArgumentException("'required' at " + where + " must list property names");
                }
                required.add(name.getString());
            }
        } else if (s.containsKey("required")) {
            throw new IllegalArgumentException("'required' at " + where + " must be an array of property names");
        }
        JsonValue props = s.get("properties");
        if (props == null) {
            if (!required.isEmpty()) {
                throw refuse(where, "'required' properties that 'properties' does not declare ('"
                        + String.join("', '", required) + "')");
            }
            if (additional == JsonValue.FALSE) {
                return g.freeObject(JsonGrammar.CLOSED_EMPTY);
            }
            int node = g.freeObject(-1);
            g.setFreeValue(node, additional instanceof JsonObject a ? compile(a, where + "/additionalProperties", depth + 1) : any());
            return node;
        }
        if (!(props instanceof JsonObject declared)) {
            throw new IllegalArgumentException("'properties' at " + where + " must be an object");
        }
        for (String r : required) {
            if (!declared.containsKey(r)) {
                throw refuse(where, "required property '" + r + "' that 'properties' does not declare");
            }
        }
        List<String> keys = new ArrayList<>(declared.keySet());
        List<String> texts = keys.stream().map(k -> Json.createValue(k).toString()).toList();
        List<Boolean> req = keys.stream().map(required::contains).toList();
        int node = g.propertiesObject(texts, req);
        for (int i = 0; i < keys.size(); i++) {
            g.setProperty(node, i, compile(declared.get(keys.get(i)), where + "/properties/" + keys.get(i), depth + 1));
        }
        return node;
    }

    private int array(JsonObject s, String where, int depth) {
        int min = count(s, "minItems", 0, where);
        int max = count(s, "maxItems", JsonGrammar.UNBOUNDED, where);
        JsonValue items = s.get("items");
        if (items == JsonValue.FALSE) {
            max = 0;
        }
        if (max < min) {
            throw new IllegalArgumentException("maxItems " + max + " < minItems " + min + " at " + where);
        }
        int node = g.array(min, max);
        g.setItems(node, items == null || items == JsonValue.TRUE || items == JsonValue.FALSE ? any()
                : compile(items, where + "/items", depth + 1));
        return node;
    }

    private static int count(JsonObject s, String key, int fallback, String where) {
        JsonValue v = s.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral() || n.longValue() < 0) {
            throw new IllegalArgumentException("'" + key + "' at " + where + " must be a non-negative integer");
        }
        return (int) Math.min(n.longValue(), 1 << 20);
    }

    private int ref(JsonObject s, String where, int depth) {
        if (!(s.get("$ref") instanceof JsonString r)) {
            throw new IllegalArgumentException("'$ref' at " + where + " must be a string");
        }
        String ref = r.getString();
        String name;
        JsonValue defs;
        if (ref.startsWith("#/$defs/")) {
            name = ref.substring("#/$defs/".length());
            defs = document.get("$defs");
        } else if (ref.startsWith("#/definitions/")) {
            name = ref.substring("#/definitions/".length());
            defs = document.get("definitions");
        } else {
            throw refuse(where, "'$ref' " + ref + " (only #/$defs/NAME and #/definitions/NAME)");
        }
        if (!(defs instanceof JsonObject d) || !d.containsKey(name)) {
            throw new IllegalArgumentException("'$ref' " + ref + " at " + where + " names no definition");
        }
        if (!expanding.add(ref)) {
            throw refuse(where, "the recursive '$ref' " + ref);
        }
        try {
            return compile(d.get(name), ref, depth + 1);
        } finally {
            expanding.remove(ref);
        }
    }
}
