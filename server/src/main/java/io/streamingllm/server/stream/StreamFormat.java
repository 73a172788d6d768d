package io.streamingllm.server.stream;

import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;

/** How a streamed turn is written on an HTTP response: SSE, NDJSON or Ollama's NDJSON records. */
public interface StreamFormat {
    String contentType();

    /** One token delta. */
    void token(StringBuilder out, String delta);

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
