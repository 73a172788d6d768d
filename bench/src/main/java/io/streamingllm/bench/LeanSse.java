package io.streamingllm.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The load generator's OpenAI client: streaming {@code POST …/chat/completions} over one kept-alive HTTP/1.1
 * connection, the chunked server-sent events scanned in place. As lean as {@link LeanWebSocket} (the JDK's
 * HttpClient would take more CPU than the relay it measures): chunk payloads are copied into one event buffer and
 * each {@code data:} event is looked at, not parsed. A token is an event whose {@code "content":"…"} is not empty;
 * the reply ends at {@code data: [DONE]} and the last chunk.
 */
final class LeanSse extends SocketInput implements AutoCloseable {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
    private static final byte[] EVENT_END = {'\n', '\n'};
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ERROR = "data: {\"error\"".getBytes(StandardCharsets.US_ASCII);

    private final String hostPort;
    private final Socket socket;
    private final OutputStream out;
    /** The de-chunked body not yet split into events: {@code events[0 .. eventsLimit)}. */
    private byte[] events = new byte[16 * 1024];
    private int eventsLimit;

    private LeanSse(String hostPort, Socket socket) throws IOException {
        super(socket.getInputStream());
        this.hostPort = hostPort;
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    static LeanSse connect(String host, int port, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            return new LeanSse(host + ":" + port, socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** One streamed reply: its token events, when the first arrived, and why it failed (null when it ended in [DONE]). */
    record Reply(int tokens, long firstTokenNanos, String error) {
    }

    /**
     * Posts {@code json} to {@code path} (with {@code X-Conversation-Id} unless null) and reads the event stream to
     * its end; a status other than 200 is an {@link IOException} with the answer's first line and body.
     */
    Reply post(String path, String conversationId, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        out.write(("POST " + path + " HTTP/1.1\r\nHost: " + hostPort + "\r\nContent-Type: application/json\r\n"
                + "Accept: text/event-stream\r\n" + (conversationId == null ? "" : "X-Conversation-Id: " + conversationId + "\r\n")
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        int end = readUntil(HEAD_END);
        String head = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
        pos = end + 4;
        String lower = head.toLowerCase(Locale.ROOT);
        if (!head.startsWith("HTTP/1.1 200")) {
            throw new IOException(head.lines().findFirst().orElse("") + ": " + errorBody(lower));
        }
        if (!lower.contains("transfer-encoding: chunked")) {
            throw new IOException("expected a chunked event stream: " + head);
        }
        eventsLimit = 0;
        int tokens = 0;
        long first = 0;
        String error = "the stream ended without data: [DONE]";
        while (true) {
            int lineEnd = readUntil(CRLF);
            int size = Integer.parseInt(new String(buf, pos, lineEnd - pos, StandardCharsets.US_ASCII).trim(), 16);
            pos = lineEnd + 2;
            need(size + 2);
            if (size == 0) {
                pos += 2;
                return new Reply(tokens, first, error);
            }
            append(buf, pos, size);
            pos += size + 2;
            // the complete events so far; a chunk may end inside one
            int at = 0;
            int eventEnd;
            while ((eventEnd = indexOf(events, at, eventsLimit, EVENT_END)) >= 0) {
                if (startsWith(at, eventEnd, DONE)) {
                    error = null;
                } else if (startsWith(at, eventEnd, ERROR)) {
                    error = new String(events, at, eventEnd - at, StandardCharsets.UTF_8);
                } else if (startsWith(at, eventEnd, DATA)) {
                    int content = indexOf(events, at, eventEnd, CONTENT);
                    if (content >= 0 && content + CONTENT.length < eventEnd && events[content + CONTENT.length] != '"') {
                        if (tokens++ == 0) {
                            first = System.nanoTime();
                        }
                    }
                }
                at = eventEnd + EVENT_END.length;
            }
            System.arraycopy(events, at, events, 0, eventsLimit - at);
            eventsLimit -= at;
        }
    }

    private void append(byte[] from, int offset, int length) {
        if (eventsLimit + length > events.length) {
            events = Arrays.copyOf(events, Math.max(events.length * 2, eventsLimit + length));
        }
        System.arraycopy(from, offset, events, eventsLimit, length);
        eventsLimit += length;
    }

    private boolean startsWith(int from, int to, byte[] prefix) {
        return to - from >= prefix.length && Arrays.equals(events, from, from + prefix.length, prefix, 0, prefix.length);
    }

    /** The body of an error answer (Content-Length framed, as the sidecar and the fake send them). */
    private String errorBody(String lowerHead) throws IOException {
        int at = lowerHead.indexOf("content-length:");
        if (at < 0) {
            return "(no body length)";
        }
        int eol = lowerHead.indexOf("\r\n", at);
        int length = Integer.parseInt(lowerHead.substring(at + 15, eol < 0 ? lowerHead.length() : eol).trim());
        need(length);
        String body = new String(buf, pos, length, StandardCharsets.UTF_8);
        pos += length;
        return body;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
