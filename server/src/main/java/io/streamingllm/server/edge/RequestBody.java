package io.streamingllm.server.edge;

import io.helidon.webserver.http.ServerRequest;
import io.streamingllm.server.json.JsonText;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request's body, whole, up to {@link #MAX_BYTES}: a larger one is refused with 413 whether announced by
 * Content-Length or sent chunked (then it is noticed while reading).
 */
public final class RequestBody {
    /** The limit of a request body, also applied to WebSocket messages. */
    public static final int MAX_BYTES = 1 << 20;
    static final String TOO_LARGE = "request body larger than " + MAX_BYTES + " bytes";

    private RequestBody() {
    }

    /** The body as a JSON object: 400 when it is empty or not one, 413 when larger than the limit. */
    public static JsonObject jsonObject(ServerRequest req) {
        String text = text(req);
        if (text.isBlank()) {
            throw ApiException.badRequest("request body is empty: expected a JSON object");
        }
        return JsonText.parseObject(text);
    }

    private static String text(ServerRequest req) {
        req.headers().contentLength().ifPresent(len -> {
            if (len > MAX_BYTES) {
                throw tooLarge();
            }
        });
        if (!req.content().hasEntity()) {
            return "";
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw tooLarge();
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "payload_too_large", TOO_LARGE);
    }
}
