package io.streamingllm.server.stream;

import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;

/** How a streamed turn is written on an HTTP response: SSE, NDJSON or Ollama's NDJSON records. */
public interface StreamFormat {
    String contentType();

    /** One token delta. */
    void token(StringBuilder out, String delta);

    /**
     * One token delta's record written as UTF-8 into {@code out}: the bytes of {@link #token}'s text. False (nothing
     * written) for a format without a byte form; the writer then encodes {@link #token}'s text.
     */
    default boolean token(Utf8Buffer out, String delta) {
        return false;
    }

    /**
     * A whole tool call, the {@code index}-th of the turn (0-based). Formats of APIs without tools (completions,
     * generate) never get one, as their requests cannot offer tools.
     */
    default void toolCall(StringBuilder out, int index, ToolCall call) {
    }

    /** The end of a turn that is durable. */
    void done(StringBuilder out, TurnResult result);

    /** The turn failed after the response started. */
    void error(StringBuilder out, ApiException error);

    /**
     * Bytes sent while waiting for tokens so a vanished client is noticed (a write to a closed connection fails)
     * and the turn cancelled, also before its first token. Must not disturb the client's parser.
     */
    String heartbeat();
}
