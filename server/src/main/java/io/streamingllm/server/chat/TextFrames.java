package io.streamingllm.server.chat;

import io.helidon.common.buffers.BufferData;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Server-to-client WebSocket text frames (RFC 6455: FIN set, unmasked) gathered in one buffer, so that the frames a
 * connection has pending go out in one socket write instead of one each. Each message stays its own frame; the
 * client sees exactly what separate sends would give it.
 */
final class TextFrames {
    private byte[] buf = new byte[8 * 1024];
    private int len;

    /** Appends one whole text message as one frame. */
    void add(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int n = payload.length;
        ensure(10 + n);
        buf[len++] = (byte) 0x81; // FIN, opcode 1 (text)
        if (n < 126) {
            buf[len++] = (byte) n;
        } else if (n < 65_536) {
            buf[len++] = 126;
            buf[len++] = (byte) (n >>> 8);
            buf[len++] = (byte) n;
        } else {
            buf[len++] = 127;
            for (int shift = 56; shift >= 0; shift -= 8) {
                buf[len++] = (byte) ((long) n >>> shift);
            }
        }
        System.arraycopy(payload, 0, buf, len, n);
        len += n;
    }

    /** Bytes gathered so far. */
    int size() {
        return len;
    }

    /**
     * The gathered frames, to be written before the next {@link #add}: the returned data shares this buffer, which
     * the next {@code add} starts to overwrite.
     */
    BufferData take() {
        BufferData data = BufferData.create(buf, 0, len);
        len = 0;
        return data;
    }

    private void ensure(int extra) {
        if (buf.length - len < extra) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }
}
