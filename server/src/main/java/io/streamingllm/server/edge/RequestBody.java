package io.streamingllm.server.edge;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.streamingllm.server.json.JsonText;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request's body, whole, up to {@link #MAX_BYTES}: a larger one is refused with 413 whether announced by
 * Content-Length or sent chunked (then it is noticed while reading).
 */
public final class RequestBody {
    /** The limit of a request body, also applied to WebSocket messages. */
    public static final int MAX_BYTES = 1 << 20;
    static final String TOO_LARGE = "request body larger than " + MAX_BYTES + " bytes";
    /**
     * A refused body up to this size is read to its end before the 413 goes out: a client still sending when the
     * server closed would get a reset and lose the answer. Larger ones are refused without reading them.
     */
    private static final long DRAIN_BYTES = 8L * MAX_BYTES;

    private RequestBody() {
    }

    /** The body as a JSON object: 400 when it is empty or not one, 413 when larger than the limit. */
    public static JsonObject jsonObject(ServerRequest req) {
        return jsonObject(bytes(req));
    }

    /** A body read by {@link #bytes} as a JSON object: 400 when it is empty or not one. */
    public static JsonObject jsonObject(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw ApiException.badRequest("request body is empty: expected a JSON object");
        }
        return JsonText.parseObject(text);
    }

    /**
     * The body's bytes, empty when there is none; 413 when larger than the limit. For a route that reads its plain
     * bodies without a JSON tree and hands the others to {@link #jsonObject(byte[])}.
     */
    public static byte[] bytes(ServerRequest req) {
        long announced = contentLength(req);
        if (announced > MAX_BYTES) {
            if (announced <= DRAIN_BYTES) {
                drain(req);
            }
            throw tooLarge();
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                discardQuietly(in, DRAIN_BYTES - bytes.length);
                throw tooLarge();
            }
            return bytes;
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    /** The announced length, -1 when there is none; a length that is not a non-negative number is a 400. */
    private static long contentLength(ServerRequest req) {
        if (!req.headers().contains(HeaderNames.CONTENT_LENGTH)) {
            return -1;
        }
        String raw = req.headers().get(HeaderNames.CONTENT_LENGTH).get().trim();
        try {
            long len = Long.parseLong(raw);
            if (len >= 0) {
                return len;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiException.badRequest("invalid Content-Length " + raw + ": expected a byte count");
    }

    /**
     * Why a body could not be read: the client stopped sending before its announced end (408, after
     * STREAMING_LLM_READ_TIMEOUT_S of silence), or its chunked framing is malformed (400). Never a 500: the body is
     * the client's.
     */
    private static RuntimeException unreadable(Exception e) {
        if (e instanceof ApiException api) {
            return api;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return new ApiException(408, "request_timeout",
                        "the request body stopped before its end (see STREAMING_LLM_READ_TIMEOUT_S)");
            }
        }
        if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof IndexOutOfBoundsException) {
            // Helidon's chunked decoder: a chunk size that is not hexadecimal, a missing CRLF
            return ApiException.badRequest("malformed request body framing: " + e.getMessage());
        }
        return e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
    }

    private static void drain(ServerRequest req) {
        try (InputStream in = req.content().inputStream()) {
            discardQuietly(in, DRAIN_BYTES);
        } catch (IOException | RuntimeException e) {
            // the 413 is the answer whatever the rest of the body does
        }
    }

    /** Reads and drops up to {@code limit} bytes, fewer when the body ends or breaks first. */
    private static void discardQuietly(InputStream in, long limit) {
        byte[] scratch = new byte[64 * 1024];
        try {
            for (long left = limit; left > 0; ) {
                int n = in.read(scratch, 0, (int) Math.min(scratch.length, left));
                if (n < 0) {
                    return;
                }
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // the 413 is the answer whatever the rest of the body does
        }
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "payload_too_large", TOO_LARGE);
    }
}
