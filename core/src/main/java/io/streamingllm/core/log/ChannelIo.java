package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads and writes that loop until done (a channel may transfer fewer bytes than asked). */
final class ChannelIo {
    private ChannelIo() {
    }

    /** Fills {@code buf} from {@code position}; the end of the file before it is full is an {@link IOException}. */
    static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of " + ch);
            }
        }
    }

    /** {@code length} bytes from {@code position}; zeros past the end of the file. */
    static byte[] readAt(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                break;
            }
        }
        return buf.array();
    }

    static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf, position + buf.position());
        }
    }

    static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing unwritten depends on a channel closed this way (its owner failed already or forces elsewhere)
        }
    }
}
