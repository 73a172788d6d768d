package io.streamingllm.server.ollama;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.stream.StreamFormat;
import io.streamingllm.server.json.JsonText;
import io.streamingllm.server.tools.ToolsJson;

import java.time.Instant;
import java.util.List;

/**
 * Ollama's NDJSON records: {@code /api/chat} ({@code message}) or {@code /api/generate} ({@code response}), the
 * final record with {@code done_reason} and the timing statistics, {@code {"error"}} on failure.
 */
final class OllamaFormat implements StreamFormat {
    private final String quotedModel;
    private final boolean chat;

    OllamaFormat(String model, boolean chat) {
        this.quotedModel = JsonText.quote(model);
        this.chat = chat;
    }

    @Override
    public String contentType() {
        return "application/x-ndjson";
    }

    private void head(StringBuilder out) {
        out.append("{\"model\":").append(quotedModel).append(",\"created_at\":\"").append(Instant.now()).append("\",");
    }

    private void content(StringBuilder out, String text, List<ToolCall> calls) {
        if (chat) {
            out.append("\"message\":{\"role\":\"assistant\",\"content\":");
            JsonText.quoteInto(out, text);
            if (!calls.isEmpty()) {
                out.append(",\"tool_calls\":[");
                for (int i = 0; i < calls.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    ToolsJson.ollamaCall(out, calls.get(i));
                }
                out.append(']');
            }
            out.append('}');
        } else {
            out.append("\"response\":");
            JsonText.quoteInto(out, text);
        }
    }

    @Override
    public void token(StringBuilder out, String delta) {
        head(out);
        content(out, delta, List.of());
        out.append(",\"done\":false}\n");
    }

    /** As Ollama streams a call: a record of its own, whole, with empty content. */
    @Override
    public void toolCall(StringBuilder out, int index, ToolCall call) {
        head(out);
        content(out, "", List.of(call));
        out.append(",\"done\":false}\n");
    }

    @Override
    public void done(StringBuilder out, TurnResult r) {
        whole(out, r, "", List.of());
        out.append('\n');
    }

    /** The final record; {@code text} is the whole reply for {@code stream: false}, empty when streaming. */
    void whole(StringBuilder out, TurnResult r, String text, List<ToolCall> calls) {
        head(out);
        content(out, text, calls);
        // Ollama ends a turn with calls as "stop": its clients look at message.tool_calls, not the reason
        String reason = r.finishReason() == FinishReason.TOOL_CALLS ? "stop" : r.finishReason().wireName();
        out.append(",\"done\":true,\"done_reason\":\"").append(reason).append('"');
        if (!chat) {
            out.append(",\"context\":[]");
        }
        out.append(",\"total_duration\":").append(Math.max(0, r.totalNanos()))
                .append(",\"load_duration\":").append(Math.max(0, r.loadNanos()))
                .append(",\"prompt_eval_count\":").append(Math.max(0, r.promptTokens()))
                .append(",\"prompt_eval_duration\":").append(Math.max(0, r.promptEvalNanos()))
                .append(",\"eval_count\":").append(Math.max(0, r.completionTokens()))
                .append(",\"eval_duration\":").append(Math.max(0, r.evalNanos()))
                .append('}');
    }

    @Override
    public void error(StringBuilder out, ApiException error) {
        out.append("{\"error\":");
        JsonText.quoteInto(out, error.detail());
        out.append("}\n");
    }

    /** Whitespace before the next record: line splitters see no extra line, JSON parsers skip it. */
    @Override
    public String heartbeat() {
        return " ";
    }
}
