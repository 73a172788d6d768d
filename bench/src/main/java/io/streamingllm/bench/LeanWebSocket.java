package io.streamingllm.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The load generator's WebSocket client: RFC 6455 over a blocking socket, read by the session's own virtual thread.
 * It shares two cores with the sidecar it measures, so it does as little as a client can: frames are read from one
 * buffer and handed out as byte ranges, token frames are recognised by their first bytes and never decoded.
 * Server frames arrive unmasked; client frames are masked as the protocol requires. Ping is answered with pong;
 * fragmented messages are put back together.
 */
final class LeanWebSocket extends SocketInput implements AutoCloseable {
    static final int TEXT = 1;
    static final int BINARY = 2;
    static final int CLOSE = 8;
    private static final int CONTINUATION = 0;
    private static final int PING = 9;
    private static final int PONG = 10;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final Socket socket;
    private final OutputStream out;
    private final ByteArrayOutputStream fragments = new ByteArrayOutputStream();
    private int fragmentedOpcode = -1;

    /** The current message: its opcode and payload, {@code payload()[payloadStart() .. payloadEnd())}. */
    private int opcode;
    private byte[] payload;
    private int payloadStart;
    private int payloadEnd;

    private LeanWebSocket(Socket socket) throws IOException {
        super(socket.getInputStream());
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    /** Connects and upgrades {@code path} on {@code host:port}; fails unless the server answers 101 with the right accept key. */
    static LeanWebSocket connect(String host, int port, String path, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            LeanWebSocket ws = new LeanWebSocket(socket);
            ws.handshake(host + ":" + port, path);
            socket.setSoTimeout(0);
            return ws;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private void handshake(String hostPort, String path) throws IOException {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        out.write(("GET " + path + " HTTP/1.1\r\nHost: " + hostPort + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        int end = readUntil("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String head = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
        pos = end + 4;
        String[] lines = head.split("\r\n");
        if (!lines[0].startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + lines[0]);
        }
        String expected;
        try {
            expected = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        boolean accepted = Arrays.stream(lines).anyMatch(l -> l.regionMatches(true, 0, "Sec-WebSocket-Accept:", 0, 21)
                && l.substring(21).trim().equals(expected));
        if (!accepted) {
            throw new IOException("upgrade without the right Sec-WebSocket-Accept: " + head);
        }
    }

    /** Sends one text message in one masked frame. */
    void sendText(String text) throws IOException {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    private void send(int op, byte[] data) throws IOException {
        int n = data.length;
        byte[] frame = new byte[14 + n];
        int i = 0;
        frame[i++] = (byte) (0x80 | op);
        if (n < 126) {
            frame[i++] = (byte) (0x80 | n);
        } else if (n < 65536) {
            frame[i++] = (byte) (0x80 | 126);
            frame[i++] = (byte) (n >>> 8);
            frame[i++] = (byte) n;
        } else {
            frame[i++] = (byte) (0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame[i++] = (byte) ((long) n >>> shift);
            }
        }
        int mask = ThreadLocalRandom.current().nextInt();
        byte[] m = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
        System.arraycopy(m, 0, frame, i, 4);
        i += 4;
        for (int k = 0; k < n; k++) {
            frame[i + k] = (byte) (data[k] ^ m[k & 3]);
        }
        out.write(frame, 0, i + n);
        out.flush();
    }

    /**
     * Reads the next whole data or close message (answering pings on the way) and returns its opcode; its bytes are
     * {@link #payload()} from {@link #payloadStart()} to {@link #payloadEnd()} until the next call.
     */
    int next() throws IOException {
        while (true) {
            need(2);
            int b0 = buf[pos] & 0xff;
            int b1 = buf[pos + 1] & 0xff;
            if ((b1 & 0x80) != 0) {
                throw new IOException("the server masked a frame");
            }
            int header = 2;
            long len = b1 & 0x7f;
            if (len == 126) {
                need(4);
                len = ((buf[pos + 2] & 0xff) << 8) | (buf[pos + 3] & 0xff);
                header = 4;
            } else if (len == 127) {
                need(10);
                len = 0;
                for (int k = 2; k < 10; k++) {
                    len = (len << 8) | (buf[pos + k] & 0xff);
                }
                header = 10;
            }
            if (len > 16 * 1024 * 1024) {
                throw new IOException("frame of " + len + " bytes");
            }
            need(header + (int) len);
            int start = pos + header;
            int end = start + (int) len;
            pos = end;
            boolean fin = (b0 & 0x80) != 0;
            int op = b0 & 0x0f;
            switch (op) {
                case PING -> send(PONG, Arrays.copyOfRange(buf, start, end));
                case PONG -> {
                }
                case CONTINUATION -> {
                    if (fragmentedOpcode < 0) {
                        throw new IOException("continuation frame without a first fragment");
                    }
                    fragments.write(buf, start, end - start);
                    if (fin) {
                        return deliver(fragmentedOpcode, fragments.toByteArray(), 0, fragments.size());
                    }
                }
                case TEXT, BINARY, CLOSE -> {
                    if (fin) {
                        return deliver(op, buf, start, end);
                    }
                    fragmentedOpcode = op;
                    fragments.reset();
                    fragments.write(buf, start, end - start);
                }
                default -> throw new IOException("unknown opcode " + op);
            }
        }
    }

    private int deliver(int op, byte[] bytes, int start, int end) {
        fragmentedOpcode = -1;
        opcode = op;
        payload = bytes;
        payloadStart = start;
        payloadEnd = end;
        return op;
    }

    byte[] payload() {
        return payload;
    }

    int payloadStart() {
        return payloadStart;
    }

    int payloadEnd() {
        return payloadEnd;
    }

    /** The current message as text. */
    String text() {
        return new String(payload, payloadStart, payloadEnd - payloadStart, StandardCharsets.UTF_8);
    }

    /** Whether the current message starts with these ASCII bytes. */
    boolean startsWith(byte[] prefix) {
        return payloadEnd - payloadStart >= prefix.length
                && Arrays.equals(payload, payloadStart, payloadStart + prefix.length, prefix, 0, prefix.length);
    }

    /** Sends a normal close and waits (briefly) for the server's close before closing the socket. */
    @Override
    public void close() throws IOException {
        try {
            send(CLOSE, new byte[] {0x03, (byte) 0xe8});
            socket.setSoTimeout(5_000);
            while (opcode != CLOSE) {
                next();
            }
        } catch (IOException ignored) {
            // the server may drop the connection right after its close frame
        } finally {
            socket.close();
        }
    }
}
