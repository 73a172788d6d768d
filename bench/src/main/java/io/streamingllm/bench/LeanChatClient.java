package io.streamingllm.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The baseline's client: streaming {@code POST /api/chat} straight to the upstream over one kept-alive HTTP/1.1
 * connection, the chunked NDJSON body scanned in place. As lean as {@link LeanWebSocket}, so the two paths are
 * measured with clients that cost the same.
 */
final class LeanChatClient implements AutoCloseable {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
    private static final byte[] NOT_DONE = "\"done\":false".getBytes(StandardCharsets.US_ASCII);

    private final URI base;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private byte[] buf = new byte[16 * 1024];
    private int pos;
    private int limit;

    LeanChatClient(URI base, int timeoutMillis) throws IOException {
        this.base = base;
        this.socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), timeoutMillis);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** What one streamed reply gave: its token records and when the first arrived. */
    record Reply(int tokens, long firstTokenNanos) {
    }

    /** Posts {@code json} to {@code /api/chat} and reads the streamed reply to its end. */
    Reply chat(String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        out.write(("POST /api/chat HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                + "\r\nContent-Type: application/json\r\nAccept: application/x-ndjson\r\nContent-Length: " + body.length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        int end;
        while ((end = LeanWebSocket.indexOf(buf, pos, limit, HEAD_END)) < 0) {
            fill();
        }
        String head = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
        pos = end + 4;
        if (!head.startsWith("HTTP/1.1 200")) {
            throw new IOException("upstream answered " + head.lines().findFirst().orElse(""));
        }
        if (!head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
            throw new IOException("expected a chunked stream: " + head);
        }
        int tokens = 0;
        long first = 0;
        while (true) {
            int lineEnd;
            while ((lineEnd = LeanWebSocket.indexOf(buf, pos, limit, CRLF)) < 0) {
                fill();
            }
            int size = Integer.parseInt(new String(buf, pos, lineEnd - pos, StandardCharsets.US_ASCII).trim(), 16);
            pos = lineEnd + 2;
            need(size + 2);
            if (size == 0) {
                pos += 2;
                return new Reply(tokens, first);
            }
            // a chunk holds whole records here (the fake writes a record per chunk); count the unfinished ones
            int at = pos;
            int stop = pos + size;
            while ((at = LeanWebSocket.indexOf(buf, at, stop, NOT_DONE)) >= 0) {
                if (tokens++ == 0) {
                    first = System.nanoTime();
                }
                at += NOT_DONE.length;
            }
            pos = stop + 2;
        }
    }

    private void need(int n) throws IOException {
        while (limit - pos < n) {
            fill();
        }
    }

    /** Reads more bytes after {@code limit}, moving the unread ones to the front first (pos becomes 0). */
    private void fill() throws IOException {
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
            throw new EOFException("the upstream closed the connection");
        }
        limit += r;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
