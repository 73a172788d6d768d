package io.streamingllm.local.template;

import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.local.template.ChatTemplate.ToolFormat;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

/**
 * The tool calls in a model's generated text, in its template's {@link ToolFormat}: Hermes
 * {@code <tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>} blocks anywhere in the text, or Llama 3.1's answer
 * that is a JSON object {@code {"name": …, "parameters": {…}}} (several separated by {@code ;}) naming an offered
 * tool. While the text streams, {@link #shown} says how much of it is surely not part of a call.
 */
public final class ToolCallText {
    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";
    private static final String PYTHON_TAG = "<|python_tag|>";

    /**
     * @param content the text without the calls (trailing whitespace dropped when there are calls)
     * @param calls   the calls, in order; ids made with {@link ToolCall#stableId}
     */
    public record Parsed(String content, List<ToolCall> calls) {
    }

    private ToolCallText() {
    }

    /**
     * How many leading characters of {@code text}, the generation so far, can be shown as text: the rest may be (the
     * start of) a call.
     */
    public static int shown(ToolFormat format, String text) {
        switch (format) {
            case HERMES -> {
                int open = text.indexOf(OPEN);
                if (open >= 0) {
                    return open;
                }
                for (int k = Math.min(OPEN.length() - 1, text.length()); k > 0; k--) {
                    if (text.endsWith(OPEN.substring(0, k))) {
                        return text.length() - k;
                    }
                }
                return text.length();
            }
            case LLAMA3_JSON -> {
                String t = text.stripLeading();
                if (t.isEmpty() || t.startsWith("{") || t.startsWith(PYTHON_TAG) || PYTHON_TAG.startsWith(t)) {
                    return 0;
                }
                return text.length();
            }
            default -> {
                return text.length();
            }
        }
    }

    /**
     * The calls in a whole generation. Throws {@link IllegalArgumentException} for a call whose JSON is broken (a
     * Hermes block that does not hold {@code {"name", "arguments"}}, a Llama answer that starts as a call to an offered
     * tool and does not parse).
     */
    public static Parsed parse(ToolFormat format, String text, List<ToolDefinition> tools) {
        return switch (format) {
            case HERMES -> hermes(text);
            case LLAMA3_JSON -> llama(text, tools);
            case NONE -> new Parsed(text, List.of());
        };
    }

    private static Parsed hermes(String text) {
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        int at = 0;
        while (true) {
            int open = text.indexOf(OPEN, at);
            if (open < 0) {
                content.append(text, at, text.length());
                break;
            }
            content.append(text, at, open);
            int close = text.indexOf(CLOSE, open);
            String body = text.substring(open + OPEN.length(), close < 0 ? text.length() : close);
            calls.add(call(calls.size(), object(body.strip(), "a <tool_call> block"), "arguments"));
            if (close < 0) {
                break; // the generation ended inside the block
            }
            at = close + CLOSE.length();
        }
        return new Parsed(calls.isEmpty() ? content.toString() : content.toString().stripTrailing(), List.copyOf(calls));
    }

    private static Parsed llama(String text, List<ToolDefinition> tools) {
        String stripped = text.strip();
        String t = stripped.startsWith(PYTHON_TAG) ? stripped.substring(PYTHON_TAG.length()).strip() : stripped;
        if (!t.startsWith("{")) {
            return new Parsed(text, List.of());
        }
        List<String> objects = objects(t);
        boolean callLike = t.matches("(?s)\\{\\s*\"name\"\\s*:.*")
                && tools.stream().anyMatch(d -> t.matches("(?s)\\{\\s*\"name\"\\s*:\\s*\"" + java.util.regex.Pattern.quote(d.name()) + "\".*"));
        if (objects == null) {
            if (callLike) {
                throw new IllegalArgumentException("the model's tool call is not valid JSON: " + shorten(t));
            }
            return new Parsed(text, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        for (String o : objects) {
            JsonObject json;
            try {
                json = Json.createReader(new StringReader(o)).readObject();
            } catch (RuntimeException e) {
                if (callLike) {
                    throw new IllegalArgumentException("the model's tool call is not valid JSON: " + shorten(o));
                }
                return new Parsed(text, List.of());
            }
            String name = json.get("name") instanceof JsonString s ? s.getString() : null;
            if (name == null || tools.stream().noneMatch(d -> d.name().equals(name))) {
                return new Parsed(text, List.of()); // JSON the model answered with, not a call
            }
            calls.add(call(calls.size(), json, json.containsKey("parameters") ? "parameters" : "arguments"));
        }
        return new Parsed("", List.copyOf(calls));
    }

    /** {@code {"name": "…", key: {…}}} as a call; the arguments may also be a string holding the object. */
    private static ToolCall call(int index, JsonObject json, String key) {
        if (!(json.get("name") instanceof JsonString name) || name.getString().isBlank()) {
            throw new IllegalArgumentException("the model's tool call names no function: " + shorten(json.toString()));
        }
        JsonValue args = json.get(key);
        String arguments;
        if (args == null || args.getValueType() == JsonValue.ValueType.NULL) {
            arguments = "{}";
        } else if (args instanceof JsonObject o) {
            arguments = o.toString();
        } else if (args instanceof JsonString s) {
            arguments = ToolCall.parseArguments(s.getString()).toString();
        } else {
            throw new IllegalArgumentException("the model's tool call has " + key + " that are not a JSON object: "
                    + shorten(json.toString()));
        }
        return new ToolCall(ToolCall.stableId(index, name.getString(), arguments), name.getString(), arguments);
    }

    private static JsonObject object(String text, String what) {
        try {
            return Json.createReader(new StringReader(text)).readObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the model wrote " + what + " that is not a JSON object: " + shorten(text));
        }
    }

    /** Top-level {@code {…}} objects separated by whitespace or {@code ;}; null when the text is not only those. */
    private static List<String> objects(String t) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (Character.isWhitespace(c) || c == ';') {
                i++;
                continue;
            }
            if (c != '{') {
                return null;
            }
            int depth = 0;
            boolean inString = false;
            int j = i;
            for (; j < t.length(); j++) {
                char d = t.charAt(j);
                if (inString) {
                    if (d == '\\') {
                        j++;
                    } else if (d == '"') {
                        inString = false;
                    }
                } else if (d == '"') {
                    inString = true;
                } else if (d == '{') {
                    depth++;
                } else if (d == '}' && --depth == 0) {
                    break;
                }
            }
            if (j >= t.length()) {
                return null; // not closed
            }
            out.add(t.substring(i, j + 1));
            i = j + 1;
        }
        return out;
    }

    private static String shorten(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
