package io.streamingllm.core.engine.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** A socket with its read buffer; {@code buf[pos, limit)} is read but not yet consumed. */
final class SocketConnection {
    final Socket socket;
    final InputStream in;
    final OutputStream out;
    final byte[] buf = new byte[SocketStreamingHttp.BUFFER_BYTES];
    int pos;
    int limit;
    /** Bytes read since the current request was written. */
    long readSinceRequest;

    SocketConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Reads more when everything read is consumed; false at the end of the stream. */
    boolean fill() throws IOException {
        if (pos < limit) {
            return true;
        }
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
            return false;
        }
        pos = 0;
        limit = n;
        readSinceRequest += n;
        return true;
    }

    /** A line ending in LF (a CR before it dropped), as ISO-8859-1; {@code max} bounds what one head may take. */
    String line(int[] budget) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            if (!fill()) {
                throw new EOFException(readSinceRequest == 0 ? "connection closed before the response"
                        : "connection closed in the response head");
            }
            while (pos < limit) {
                byte b = buf[pos++];
                if (--budget[0] < 0) {
                    throw new IOException("response head longer than " + SocketStreamingHttp.MAX_HEAD_BYTES + " bytes");
                }
                if (b == '\n') {
                    int n = sb.length();
                    if (n > 0 && sb.charAt(n - 1) == '\r') {
                        sb.setLength(n - 1);
                    }
                    return sb.toString();
                }
                sb.append((char) (b & 0xff));
            }
        }
    }

    void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to keep
        }
    }
}
