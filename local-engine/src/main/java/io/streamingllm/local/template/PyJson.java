package io.streamingllm.local.template;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.StringReader;
import java.util.Map;

/**
 * JSON as the Jinja {@code tojson} filter of Hugging Face chat templates writes it (Python's {@code json.dumps} with
 * {@code ensure_ascii=False}): {@code ", "} and {@code ": "} between items, or with {@code indent} one item a line
 * ({@code ","} at line ends). A model was trained on prompts written this way, so its tools and calls are rendered so.
 */
final class PyJson {
    private PyJson() {
    }

    /** {@code text}, a JSON document, rewritten; text that is not JSON is returned as it is. */
    static String dumps(String text) {
        try {
            return dumps(Json.createReader(new StringReader(text)).readValue(), -1);
        } catch (RuntimeException notJson) {
            return text;
        }
    }

    /** @param indent spaces per level, or -1 for one line */
    static String dumps(JsonValue v, int indent) {
        StringBuilder out = new StringBuilder();
        write(out, v, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, JsonValue v, int indent, int depth) {
        switch (v.getValueType()) {
            case OBJECT -> {
                JsonObject o = v.asJsonObject();
                if (o.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonValue> e : o.entrySet()) {
                    separator(out, first, indent, depth + 1);
                    first = false;
                    string(out, e.getKey());
                    out.append(": ");
                    write(out, e.getValue(), indent, depth + 1);
                }
                newline(out, indent, depth);
                out.append('}');
            }
            case ARRAY -> {
                JsonArray a = v.asJsonArray();
                if (a.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                boolean first = true;
                for (JsonValue x : a) {
                    separator(out, first, indent, depth + 1);
                    first = false;
                    write(out, x, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.append(']');
            }
            case STRING -> string(out, ((JsonString) v).getString());
            default -> out.append(v);
        }
    }

    private static void separator(StringBuilder out, boolean first, int indent, int depth) {
        if (!first) {
            out.append(indent < 0 ? ", " : ",");
        }
        newline(out, indent, depth);
    }

    private static void newline(StringBuilder out, int indent, int depth) {
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
