package io.streamingllm.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * What the load generator's clients read from their socket: one growing buffer whose unread bytes are
 * {@code buf[pos .. limit)}. Parsers look at the bytes in place and move {@code pos} past what they consumed.
 */
abstract class SocketInput {
    private final InputStream in;
    protected byte[] buf = new byte[16 * 1024];
    protected int pos;
    protected int limit;

    protected SocketInput(InputStream in) {
        this.in = in;
    }

    /** Makes at least {@code n} unread bytes available at {@code pos}. */
    protected final void need(int n) throws IOException {
        while (limit - pos < n) {
            fill();
        }
    }

    /** Reads more bytes after {@code limit}, moving the unread ones to the front first (pos becomes 0). */
    protected final void fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            limit -= pos;
            pos = 0;
        }
        if (limit == buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
        }
        int r = in.read(buf, limit, buf.length - limit);
        if (r < 0) {
            throw new EOFException("the server closed the connection");
        }
        limit += r;
    }

    /** Reads until {@code needle} is among the unread bytes; returns where it starts. */
    protected final int readUntil(byte[] needle) throws IOException {
        int at;
        while ((at = indexOf(buf, pos, limit, needle)) < 0) {
            fill();
        }
        return at;
    }

    static int indexOf(byte[] a, int from, int to, byte[] needle) {
        outer:
        for (int i = from; i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (a[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
