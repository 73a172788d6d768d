package io.streamingllm.server.openai;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.core.session.payload.WindowState;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.ErrorBodies;
import io.streamingllm.server.json.JsonText;
import io.streamingllm.server.stream.StreamFormat;
import io.streamingllm.server.stream.Utf8Buffer;
import io.streamingllm.server.stream.WindowHeaders;
import io.streamingllm.server.tools.ToolsJson;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * OpenAI's records for one reply: streamed, SSE {@code chat.completion.chunk} (or {@code text_completion}) events
 * ending in {@code data: [DONE]}, with a last chunk of empty {@code choices} carrying the {@code usage} when
 * {@code stream_options.include_usage} asked for it; whole, one {@code chat.completion} (or
 * {@code text_completion}). The record with the finish reason carries a {@code streaming_llm} object that says
 * what the window did, as the headers do.
 *
 * <p>A token's record is its delta between two strings made once per reply, so the per-token cost is the
 * delta's quoting, as for the other formats. One per reply; used by one thread at a time.
 */
final class OpenAiFormat implements StreamFormat {
    private final boolean chat;
    private final boolean includeUsage;
    private final Turn turn;
    /** {@code "id":…,"created":…,"model":…}, the fields every record of the reply repeats. */
    private final String ids;
    /** A streamed record's opening: {@code {"id":…,"object":…,"created":…,"model":…} without its closing brace. */
    private final String head;
    private final String tokenPrefix;
    private final String tokenSuffix;
    private final byte[] tokenPrefixBytes;
    private final byte[] tokenSuffixBytes;
    /** Characters of a call's arguments per streamed fragment. */
    private static final int ARGUMENT_PIECE = 24;
    private static final String TOOL_SUFFIX = "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    private boolean roleSent;

    /**
     * @param chat  a chat completion (else a text completion)
     * @param model the model the reply is reported by
     */
    OpenAiFormat(boolean chat, String model, boolean includeUsage, Turn turn) {
        this.chat = chat;
        this.includeUsage = includeUsage;
        this.turn = turn;
        String id = (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + Long.toHexString(ThreadLocalRandom.current().nextLong());
        this.ids = "\"id\":\"" + id + "\",\"created\":" + System.currentTimeMillis() / 1000 + ",\"model\":"
                + JsonText.quote(model);
        this.head = "{\"object\":\"" + (chat ? "chat.completion.chunk" : "text_completion") + "\"," + ids;
        if (chat) {
            tokenPrefix = "data: " + head + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":";
            tokenSuffix = "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
        } else {
            tokenPrefix = "data: " + head + ",\"choices\":[{\"text\":";
            tokenSuffix = ",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n";
        }
        tokenPrefixBytes = tokenPrefix.getBytes(StandardCharsets.UTF_8);
        tokenSuffixBytes = tokenSuffix.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String contentType() {
        return "text/event-stream";
    }

    @Override
    public void token(StringBuilder out, String delta) {
        if (chat && !roleSent) {
            roleSent = true;
            out.append("data: ").append(head)
                    .append(",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":");
        } else {
            out.append(tokenPrefix);
        }
        JsonText.quoteInto(out, delta);
        out.append(tokenSuffix);
    }

    /** As {@link #token(StringBuilder, String)}: two byte strings made once per reply around the quoted delta. */
    @Override
    public boolean token(Utf8Buffer out, String delta) {
        if (chat && !roleSent) {
            roleSent = true;
            out.append(rolePrefixBytes());
        } else {
            out.append(tokenPrefixBytes);
        }
        out.appendQuoted(delta);
        out.append(tokenSuffixBytes);
        return true;
    }

    private byte[] rolePrefixBytes() {
        return ("data: " + head + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A call as OpenAI streams it: a first {@code delta.tool_calls} fragment with its index, id, type and name and
     * empty arguments, then the arguments in pieces of {@value #ARGUMENT_PIECE} characters.
     */
    @Override
    public void toolCall(StringBuilder out, int index, ToolCall call) {
        out.append("data: ").append(head).append(",\"choices\":[{\"index\":0,\"delta\":{");
        if (!roleSent) {
            roleSent = true;
            out.append("\"role\":\"assistant\",\"content\":null,");
        }
        out.append("\"tool_calls\":[{\"index\":").append(index).append(",\"id\":");
        JsonText.quoteInto(out, call.id());
        out.append(",\"type\":\"function\",\"function\":{\"name\":");
        JsonText.quoteInto(out, call.name());
        out.append(",\"arguments\":\"\"}}]").append(TOOL_SUFFIX);
        String args = call.arguments();
        for (int from = 0; from < args.length(); ) {
            int to = Math.min(args.length(), from + ARGUMENT_PIECE);
            if (to < args.length() && Character.isHighSurrogate(args.charAt(to - 1))) {
                to++; // a piece is valid text on its own
            }
            out.append("data: ").append(head).append(",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":")
                    .append(index).append(",\"function\":{\"arguments\":");
            JsonText.quoteInto(out, args.substring(from, to));
            out.append("}}]").append(TOOL_SUFFIX);
            from = to;
        }
    }

    @Override
    public void done(StringBuilder out, TurnResult r) {
        out.append("data: ").append(head).append(",\"choices\":[{");
        if (chat) {
            out.append("\"index\":0,\"delta\":").append(roleSent ? "{}" : "{\"role\":\"assistant\",\"content\":\"\"}");
        } else {
            out.append("\"text\":\"\",\"index\":0");
        }
        out.append(",\"logprobs\":null,\"finish_reason\":\"").append(finishReason(r)).append("\"}],");
        extension(out);
        out.append("}\n\n");
        if (includeUsage) {
            out.append("data: ").append(head).append(",\"choices\":[],");
            usage(out, r);
            out.append("}\n\n");
        }
        out.append("data: [DONE]\n\n");
    }

    /** The whole reply, for {@code stream: false}. */
    String whole(TurnResult r, String text, List<ToolCall> calls) {
        StringBuilder out = new StringBuilder(text.length() + 512);
        out.append("{\"object\":\"").append(chat ? "chat.completion" : "text_completion").append("\",").append(ids)
                .append(",\"choices\":[{\"index\":0,");
        if (chat) {
            out.append("\"message\":{\"role\":\"assistant\",\"content\":");
            if (text.isEmpty() && !calls.isEmpty()) {
                out.append("null");
            } else {
                JsonText.quoteInto(out, text);
            }
            out.append(",\"refusal\":null");
            if (!calls.isEmpty()) {
                out.append(",\"tool_calls\":[");
                for (int i = 0; i < calls.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    ToolsJson.openAiCall(out, calls.get(i));
                }
                out.append(']');
            }
            out.append('}');
        } else {
            out.append("\"text\":");
            JsonText.quoteInto(out, text);
        }
        out.append(",\"logprobs\":null,\"finish_reason\":\"").append(finishReason(r)).append("\"}],");
        usage(out, r);
        out.append(',');
        extension(out);
        return out.append('}').toString();
    }

    @Override
    public void error(StringBuilder out, ApiException error) {
        out.append("data: ");
        ErrorBodies.openAiError(out, error);
        out.append("\n\n");
    }

    /** An SSE comment: clients skip it. */
    @Override
    public String heartbeat() {
        return ":\n\n";
    }

    private static String finishReason(TurnResult r) {
        return switch (r.finishReason()) {
            case LENGTH -> "length";
            case TOOL_CALLS -> "tool_calls";
            default -> "stop";
        };
    }

    private static void usage(StringBuilder out, TurnResult r) {
        int prompt = Math.max(0, r.promptTokens());
        int completion = Math.max(0, r.completionTokens());
        out.append("\"usage\":{\"prompt_tokens\":").append(prompt).append(",\"completion_tokens\":").append(completion)
                .append(",\"total_tokens\":").append(prompt + completion).append('}');
    }

    /** What the window did, as {@link WindowHeaders} says it: the sidecar's own field, which clients ignore. */
    private void extension(StringBuilder out) {
        WindowState w = turn.window();
        out.append("\"streaming_llm\":{");
        if (turn.conversationId() != null) {
            out.append("\"conversation_id\":");
            JsonText.quoteInto(out, turn.conversationId());
            out.append(',');
        }
        out.append("\"context_tokens\":").append(WindowHeaders.contextTokens(w))
                .append(",\"sink_tokens\":").append(w.sinkTokens())
                .append(",\"summary_tokens\":").append(w.summaryTokens())
                .append(",\"recent_tokens\":").append(w.recentTokens())
                .append(",\"evicted_turns\":").append(w.evictedTurns())
                .append('}');
    }
}
