package io.streamingllm.server.chat;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataWriter;
import io.helidon.webserver.ConnectionContext;
import io.helidon.websocket.WsSession;
import io.streamingllm.server.stream.BatchWriter;

/**
 * Writes a WebSocket connection's outbox as text frames. Helidon's {@link WsSession#send} writes each frame on its
 * own, so the frames of a batch are framed here ({@link TextFrames}) and go out in one write through the
 * connection's {@link DataWriter}, the one Helidon writes with (a write is atomic on the socket, so they never
 * interleave with Helidon's pongs). Pings and the close still go through the session.
 *
 * <p>The connection's writer thread only.
 */
final class WsFrameWriter implements BatchWriter {
    private static final int MAX_BYTES_PER_WRITE = 64 * 1024;

    private final WsSession session;
    /** Null when the session is not on a connection of ours; then each frame is sent on its own. */
    private final DataWriter socket;
    private final TextFrames frames = new TextFrames();

    WsFrameWriter(WsSession session) {
        this.session = session;
        this.socket = session.socketContext() instanceof ConnectionContext ctx ? ctx.dataWriter() : null;
    }

    @Override
    public void append(String frame) {
        if (socket == null) {
            session.send(frame, true);
            return;
        }
        frames.add(frame);
        if (frames.size() >= MAX_BYTES_PER_WRITE) {
            flush();
        }
    }

    @Override
    public void flush() {
        if (frames.size() > 0) {
            socket.writeNow(frames.take());
        }
    }

    @Override
    public void idle() {
        session.ping(BufferData.empty());
    }
}
