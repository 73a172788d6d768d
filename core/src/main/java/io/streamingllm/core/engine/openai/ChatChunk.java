package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Reads one stream of {@code chat.completion.chunk} server-sent events, line by line, and keeps what the result needs:
 * the text, the finish reason and the usage of the last chunk. A {@code data:} line carries a chunk (or an
 * {@code {"error":…}} record, or {@code [DONE]}); comments ({@code :}) and {@code event:}/{@code id:}/{@code retry:}
 * lines are skipped. Not thread-safe: one generation's lines arrive one at a time.
 */
final class ChatChunk {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);

    /**
     * What one line meant: a text delta (or null), whether it carried the finish reason, whether it was
     * {@code [DONE]}, and the tool calls it completed (streamed in fragments, a call is whole at the finish).
     */
    record Event(String delta, boolean finished, boolean done, List<ToolCall> calls) {
        static final Event NOTHING = new Event(null, false, false, List.of());
        static final Event DONE = new Event(null, false, true, List.of());

        Event(String delta, boolean finished, boolean done) {
            this(delta, finished, done, List.of());
        }
    }

    private final OpenAiErrors errors;
    private final StringBuilder text = new StringBuilder();
    private int deltas;
    private long firstTokenNanos;
    private FinishReason finishReason;
    private int promptTokens = -1;
    private int completionTokens = -1;
    private final ToolCallFragments calls = new ToolCallFragments();
    private final PlainChunks.Template plain = new PlainChunks.Template();

    ChatChunk(OpenAiErrors errors) {
        this.errors = errors;
    }

    /** Reads one line of the stream; throws {@link EngineException} for an error record or a line that is not SSE JSON. */
    Event read(byte[] bytes, int offset, int length) {
        if (length > DATA.length && startsWith(bytes, offset, DATA)) {
            String content = plain.delta(bytes, offset + DATA.length, length - DATA.length);
            if (content != null) {
                return delta(content);
            }
            PlainChunks.Last last = PlainChunks.last(bytes, offset + DATA.length, length - DATA.length);
            if (last != null) {
                return last(last, bytes, offset + DATA.length, length - DATA.length);
            }
        }
        String line = new String(bytes, offset, length, StandardCharsets.UTF_8);
        if (line.startsWith(":") || line.startsWith("event:") || line.startsWith("id:") || line.startsWith("retry:")) {
            return Event.NOTHING;
        }
        if (!line.startsWith("data:")) {
            throw protocol("a line that is not a server-sent event", line, null);
        }
        String data = line.substring(line.length() > 5 && line.charAt(5) == ' ' ? 6 : 5);
        if (data.strip().equals("[DONE]")) {
            return Event.DONE;
        }
        JsonObject chunk;
        try (JsonReader reader = READERS.createReader(new StringReader(data))) {
            chunk = reader.readObject();
        } catch (JsonException | IllegalStateException e) {
            throw protocol("an event that is not a JSON object", data, e);
        }
        if (chunk.containsKey("error") || "error".equals(stringOr(chunk, "object"))) {
            throw errors.streamError(errors.fromObject(chunk) instanceof OpenAiErrors.UpstreamError err ? err
                    : new OpenAiErrors.UpstreamError(errors.shown(chunk.toString()), "", ""));
        }
        if (chunk.get("usage") instanceof JsonObject usage) {
            promptTokens = intOr(usage, "prompt_tokens", promptTokens);
            completionTokens = intOr(usage, "completion_tokens", completionTokens);
        }
        String delta = null;
        String reason = null;
        if (chunk.get("choices") instanceof JsonArray choices && !choices.isEmpty()
                && choices.get(0) instanceof JsonObject choice) {
            if (choice.get("delta") instanceof JsonObject d) {
                if (d.get("content") instanceof JsonString content) {
                    delta = content.getString();
                }
                if (d.get("tool_calls") instanceof JsonArray fragments) {
                    calls.add(fragments);
                }
            }
            if (choice.get("finish_reason") instanceof JsonString r) {
                reason = r.getString();
            }
        }
        return choice(delta, reason, data);
    }

    /** The finish chunk or the usage chunk read without a tree: as the full reading, without tool-call fragments. */
    private Event last(PlainChunks.Last last, byte[] bytes, int offset, int length) {
        if (last.usage()) {
            promptTokens = last.promptTokens() >= 0 ? last.promptTokens() : promptTokens;
            completionTokens = last.completionTokens() >= 0 ? last.completionTokens() : completionTokens;
        }
        String data = last.finish() == null ? null : new String(bytes, offset, length, StandardCharsets.UTF_8);
        return choice(last.content(), last.finish(), data);
    }

    /** A choice's delta (null: none) and finish reason (null: none); {@code data} is the event, for an error's text. */
    private Event choice(String delta, String reason, String data) {
        boolean finished = false;
        if (reason != null) {
            finishReason = switch (reason) {
                case "length" -> FinishReason.LENGTH;
                case "tool_calls", "function_call" -> FinishReason.TOOL_CALLS;
                default -> FinishReason.STOP;
            };
            finished = true;
        }
        Event content = delta == null ? Event.NOTHING : delta(delta);
        if (!finished) {
            return content;
        }
        List<ToolCall> whole;
        try {
            whole = calls.complete();
        } catch (IllegalArgumentException e) {
            finishReason = null; // the answer is not whole: the turn fails instead of handing on a broken call
            throw protocol("a tool call whose " + e.getMessage(), data, e);
        }
        if (!whole.isEmpty() && finishReason == FinishReason.STOP) {
            finishReason = FinishReason.TOOL_CALLS; // some servers say stop after calls; the client must run them
        }
        return new Event(content.delta(), true, false, whole);
    }

    /** A content delta: counted and kept when not empty. */
    private Event delta(String delta) {
        if (delta.isEmpty()) {
            return Event.NOTHING;
        }
        if (deltas++ == 0) {
            firstTokenNanos = System.nanoTime();
        }
        text.append(delta);
        return new Event(delta, false, false);
    }

    private static boolean startsWith(byte[] bytes, int offset, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[offset + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private EngineException protocol(String what, String line, Exception cause) {
        String shown = errors.shown(line.length() > 200 ? line.substring(0, 200) : line);
        return new EngineException(Kind.PROTOCOL, "the OpenAI-compatible server at " + errors.base() + " sent " + what
                + ": " + shown, cause);
    }

    /** The tool calls completed so far. */
    List<ToolCall> toolCalls() {
        return calls.completed();
    }

    String text() {
        return text.toString();
    }

    int deltas() {
        return deltas;
    }

    /** {@link System#nanoTime()} of the first non-empty delta; 0 before it. */
    long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** The finish reason once a chunk carried one, else null. */
    FinishReason finishReason() {
        return finishReason;
    }

    /** {@code usage.prompt_tokens}, -1 when the server sent no usage. */
    int promptTokens() {
        return promptTokens;
    }

    /** {@code usage.completion_tokens}, -1 when the server sent no usage. */
    int completionTokens() {
        return completionTokens;
    }

    private static String stringOr(JsonObject o, String key) {
        return o.get(key) instanceof JsonString s ? s.getString() : null;
    }

    private static int intOr(JsonObject o, String key, int fallback) {
        return o.get(key) instanceof JsonNumber n ? n.intValue() : fallback;
    }
}
