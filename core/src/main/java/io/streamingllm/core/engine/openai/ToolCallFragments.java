package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ToolCall;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonNumber;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Joins streamed {@code delta.tool_calls} fragments into whole calls. The first fragment of a call carries its
 * {@code index}, {@code id} and {@code function.name}; later ones carry the same index and a piece of
 * {@code function.arguments}. Calls are whole once the choice finishes; their arguments must then be a JSON object.
 */
final class ToolCallFragments {
    private static final class Partial {
        String id;
        String name = "";
        final StringBuilder arguments = new StringBuilder();
    }

    private final Map<Integer, Partial> byIndex = new TreeMap<>();
    private final List<ToolCall> completed = new ArrayList<>();

    void add(JsonArray fragments) {
        int position = 0;
        for (JsonValue v : fragments) {
            if (!(v instanceof JsonObject f)) {
                continue;
            }
            int index = f.get("index") instanceof JsonNumber n ? n.intValue() : position;
            position++;
            Partial p = byIndex.computeIfAbsent(index, i -> new Partial());
            if (f.get("id") instanceof JsonString id && !id.getString().isEmpty()) {
                p.id = id.getString();
            }
            if (f.get("function") instanceof JsonObject fn) {
                if (fn.get("name") instanceof JsonString name) {
                    p.name += name.getString();
                }
                if (fn.get("arguments") instanceof JsonString args) {
                    p.arguments.append(args.getString());
                }
            }
        }
    }

    /** The calls made whole by the finish; throws {@link IllegalArgumentException} for arguments that are not JSON. */
    List<ToolCall> complete() {
        List<ToolCall> whole = new ArrayList<>(byIndex.size());
        for (Map.Entry<Integer, Partial> e : byIndex.entrySet()) {
            Partial p = e.getValue();
            if (p.name.isEmpty()) {
                throw new IllegalArgumentException("function name is missing (index " + e.getKey() + ")");
            }
            String args = p.arguments.isEmpty() ? "{}" : p.arguments.toString();
            ToolCall.parseArguments(args);
            String id = p.id != null ? p.id : ToolCall.stableId(e.getKey(), p.name, args);
            whole.add(new ToolCall(id, p.name, args));
        }
        byIndex.clear();
        completed.addAll(whole);
        return whole;
    }

    List<ToolCall> completed() {
        return List.copyOf(completed);
    }
}
