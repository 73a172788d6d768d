package io.streamingllm.server.stream;

import io.streamingllm.core.engine.ToolCall;

import java.io.IOException;

/**
 * Where a {@link TokenOutbox} hands its records, on the writer thread: appended to a batch that goes out in one
 * socket write on {@link #flush}. An implementation may also flush on its own when its batch grows large.
 */
public interface BatchWriter {
    /** Adds one record to the batch. */
    void append(String record) throws IOException;

    /** Adds a tool call to the batch; writers of streams that cannot carry calls ignore it. */
    default void toolCall(ToolCall call) throws IOException {
    }

    /** Writes the batch, if any. */
    void flush() throws IOException;

    /** Nothing was queued for the idle interval: send what keeps the connection observed (heartbeat, ping). */
    void idle() throws IOException;
}
