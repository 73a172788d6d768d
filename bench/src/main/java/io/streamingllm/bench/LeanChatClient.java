package io.streamingllm.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The baseline's client: streaming {@code POST /api/chat} straight to the upstream over one kept-alive HTTP/1.1
 * connection, the chunked NDJSON body scanned in place. As lean as {@link LeanWebSocket}, so the two paths are
 * measured with clients that cost the same.
 */
final class LeanChatClient extends SocketInput implements AutoCloseable {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
    private static final byte[] NOT_DONE = "\"done\":false".getBytes(StandardCharsets.US_ASCII);

    private final URI base;
    private final Socket socket;
    private final OutputStream out;

    private LeanChatClient(URI base, Socket socket) throws IOException {
        super(socket.getInputStream());
        this.base = base;
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    static LeanChatClient connect(URI base, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), timeoutMillis);
            return new LeanChatClient(base, socket);
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
        int end = readUntil(HEAD_END);
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
            int lineEnd = readUntil(CRLF);
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
            while ((at = indexOf(buf, at, stop, NOT_DONE)) >= 0) {
                if (tokens++ == 0) {
                    first = System.nanoTime();
                }
                at += NOT_DONE.length;
            }
            pos = stop + 2;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
