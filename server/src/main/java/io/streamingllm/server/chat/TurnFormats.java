package io.streamingllm.server.chat;

import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.stream.StreamFormat;
import io.streamingllm.server.json.JsonText;

/**
 * Wire formats of an HTTP turn. SSE: events {@code token} (data {@code {"token","conversation_id"}}),
 * {@code tool_call} (data {@link #toolCallFields}), {@code done} and {@code error}. NDJSON: one object a line with a
 * {@code type} of token, tool_call, done or error, the same fields as the WebSocket frames.
 */
public final class TurnFormats {
    private TurnFormats() {
    }

    /** SSE unless the client asks for NDJSON ({@code Accept: application/x-ndjson}). */
    public static StreamFormat forAccept(String accept, String conversationId) {
        boolean ndjson = accept != null && accept.contains("application/x-ndjson")
                && !accept.contains("text/event-stream");
        return ndjson ? new Ndjson(conversationId) : new Sse(conversationId);
    }

    static void doneFields(StringBuilder out, String quotedId, TurnResult r) {
        out.append("\"conversation_id\":").append(quotedId)
                .append(",\"finish_reason\":\"").append(r.finishReason().wireName()).append('"')
                .append(",\"prompt_tokens\":").append(r.promptTokens())
                .append(",\"completion_tokens\":").append(r.completionTokens());
    }

    /**
     * A native tool call: {@code "type":"tool_call","id","name","arguments"} (the arguments a JSON object), the same
     * in WebSocket frames, NDJSON lines and SSE data.
     */
    static void toolCallFields(StringBuilder out, ToolCall call) {
        out.append("\"type\":\"tool_call\",\"id\":");
        JsonText.quoteInto(out, call.id());
        out.append(",\"name\":");
        JsonText.quoteInto(out, call.name());
        out.append(",\"arguments\":").append(call.arguments());
    }

    static final class Sse implements StreamFormat {
        private final String quotedId;

        Sse(String conversationId) {
            this.quotedId = JsonText.quote(conversationId);
        }

        @Override
        public String contentType() {
            return "text/event-stream";
        }

        @Override
        public void token(StringBuilder out, String delta) {
            out.append("event: token\ndata: {\"token\":");
            JsonText.quoteInto(out, delta);
            out.append(",\"conversation_id\":").append(quotedId).append("}\n\n");
        }

        @Override
        public void toolCall(StringBuilder out, int index, ToolCall call) {
            out.append("event: tool_call\ndata: {");
            toolCallFields(out, call);
            out.append(",\"conversation_id\":").append(quotedId).append("}\n\n");
        }

        @Override
        public void done(StringBuilder out, TurnResult result) {
            out.append("event: done\ndata: {");
            doneFields(out, quotedId, result);
            out.append("}\n\n");
        }

        @Override
        public void error(StringBuilder out, ApiException error) {
            out.append("event: error\ndata: {\"error\":");
            JsonText.quoteInto(out, error.error());
            out.append(",\"detail\":");
            JsonText.quoteInto(out, error.detail());
            out.append(",\"conversation_id\":").append(quotedId).append("}\n\n");
        }

        @Override
        public String heartbeat() {
            return ":\n\n";
        }
    }

    static final class Ndjson implements StreamFormat {
        private final String quotedId;

        Ndjson(String conversationId) {
            this.quotedId = JsonText.quote(conversationId);
        }

        @Override
        public String contentType() {
            return "application/x-ndjson";
        }

        @Override
        public void token(StringBuilder out, String delta) {
            out.append("{\"type\":\"token\",\"token\":");
            JsonText.quoteInto(out, delta);
            out.append(",\"conversation_id\":").append(quotedId).append("}\n");
        }

        @Override
        public void toolCall(StringBuilder out, int index, ToolCall call) {
            out.append('{');
            toolCallFields(out, call);
            out.append(",\"conversation_id\":").append(quotedId).append("}\n");
        }

        @Override
        public void done(StringBuilder out, TurnResult result) {
            out.append("{\"type\":\"done\",");
            doneFields(out, quotedId, result);
            out.append("}\n");
        }

        @Override
        public void error(StringBuilder out, ApiException error) {
            out.append("{\"type\":\"error\",\"error\":");
            JsonText.quoteInto(out, error.error());
            out.append(",\"detail\":");
            JsonText.quoteInto(out, error.detail());
            out.append(",\"conversation_id\":").append(quotedId).append("}\n");
        }

        /** Whitespace before the next record: JSON parsers skip it, line splitters see no extra line. */
        @Override
        public String heartbeat() {
            return " ";
        }
    }
}
