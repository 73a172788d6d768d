package io.streamingllm.core.session;

import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.session.ConversationIndex.IndexedTurn;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The built-in {@code conversation_search} tool: offered to the model next to the client's tools in a logged turn
 * whose request enables tools (tool choice auto), run by the sidecar over the conversation's own earlier turns when
 * the model calls it, and answered to the model, not to the client. Its calls and results are logged as every
 * tool call is (the reply's {@code tool_calls}, then the next turn's {@code tool_results}). Thread-safe: it keeps
 * no state.
 */
final class SearchTool {
    static final String NAME = "conversation_search";
    /** Search rounds one request may run before the tool is no longer offered (a model that keeps searching). */
    static final int MAX_ROUNDS = 3;
    private static final int DEFAULT_TURNS = 3;
    private static final int MAX_TURNS = 10;
    /** Characters of one side of a turn in a result: a pasted file does not flood the context. */
    private static final int MAX_SIDE_CHARS = 2_000;

    static final ToolDefinition DEFINITION = new ToolDefinition(NAME,
            "Search the earlier turns of this conversation, including those no longer in your context, for words. "
                    + "Returns the best-matching turns (what the user said and what you answered), oldest first.",
            Json.createObjectBuilder()
                    .add("type", "object")
                    .add("properties", Json.createObjectBuilder()
                            .add("query", Json.createObjectBuilder().add("type", "string")
                                    .add("description", "the words to look for"))
                            .add("limit", Json.createObjectBuilder().add("type", "integer")
                                    .add("description", "how many turns to return, 1 to " + MAX_TURNS + " (default "
                                            + DEFAULT_TURNS + ")")))
                    .add("required", Json.createArrayBuilder().add("query"))
                    .build());

    private SearchTool() {
    }

    /** The options with the tool offered too: only when the client's tools are on with choice auto, never twice. */
    static GenerationOptions offer(GenerationOptions o) {
        ToolOptions t = o.tools();
        if (!t.enabled() || t.choice() != ToolOptions.Choice.AUTO
                || t.definitions().stream().anyMatch(d -> d.name().equals(NAME))) {
            return o;
        }
        List<ToolDefinition> defs = new ArrayList<>(t.definitions());
        defs.add(DEFINITION);
        return o.withTools(new ToolOptions(defs, t.choice(), t.function(), t.parallel()));
    }

    /** The options without the tool (after {@link #MAX_ROUNDS}): the client's tools as they asked. */
    static GenerationOptions withdraw(GenerationOptions o) {
        ToolOptions t = o.tools();
        if (t.definitions().stream().noneMatch(d -> d == DEFINITION)) {
            return o;
        }
        return o.withTools(new ToolOptions(t.definitions().stream().filter(d -> d != DEFINITION).toList(), t.choice(),
                t.function(), t.parallel()));
    }

    /** Whether the sidecar answers these calls itself: all of them are to this tool (and it was offered). */
    static boolean ours(GenerationOptions offered, List<ToolCall> calls) {
        return !calls.isEmpty() && offered.tools().definitions().contains(DEFINITION)
                && calls.stream().allMatch(c -> c.name().equals(NAME));
    }

    /** Runs one call over turns before {@code beforeTurn}; the result as JSON text (an error object for bad arguments). */
    static String run(ConversationIndex index, String conversationId, int beforeTurn, ToolCall call) {
        JsonObject args;
        try (JsonReader r = Json.createReader(new StringReader(call.arguments()))) {
            JsonValue v = r.readValue();
            args = v.getValueType() == JsonValue.ValueType.OBJECT ? v.asJsonObject() : null;
        } catch (JsonException | IllegalStateException e) {
            args = null;
        }
        if (args == null || !args.containsKey("query") || args.get("query").getValueType() != JsonValue.ValueType.STRING
                || args.getString("query").isBlank()) {
            return error("conversation_search takes {\"query\": \"words to look for\", \"limit\": 1 to " + MAX_TURNS + "}");
        }
        int limit = DEFAULT_TURNS;
        if (args.get("limit") instanceof JsonNumber n) {
            limit = Math.max(1, Math.min(MAX_TURNS, n.intValue()));
        }
        List<IndexedTurn> turns;
        try {
            turns = new ArrayList<>(index.searchTurns(conversationId, args.getString("query"), beforeTurn, limit));
        } catch (RuntimeException e) {
            return error("the search failed: " + e.getMessage());
        }
        turns.sort(Comparator.comparingInt(IndexedTurn::turn));
        JsonArrayBuilder found = Json.createArrayBuilder();
        for (IndexedTurn t : turns) {
            found.add(Json.createObjectBuilder().add("turn", t.turn()).add("user", clip(t.user()))
                    .add("assistant", clip(t.assistant())));
        }
        return Json.createObjectBuilder().add("query", args.getString("query")).add("turns", found).build().toString();
    }

    private static String error(String message) {
        return Json.createObjectBuilder().add("error", message).build().toString();
    }

    private static String clip(String s) {
        if (s.length() <= MAX_SIDE_CHARS) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(MAX_SIDE_CHARS - 1)) ? MAX_SIDE_CHARS - 1 : MAX_SIDE_CHARS;
        return s.substring(0, end) + "…";
    }
}
