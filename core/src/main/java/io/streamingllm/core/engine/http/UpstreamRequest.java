package io.streamingllm.core.engine.http;

import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * A POST to an upstream whose response is streamed: the target, its extra headers as name/value pairs
 * ({@code Host}, {@code Content-Length} and {@code Connection} are the transport's), and the body
 * {@code body[0, bodyLength)}, which is not copied and must not change while calls with it run.
 */
public record UpstreamRequest(URI uri, List<String> headers, byte[] body, int bodyLength) {
    public UpstreamRequest {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(body, "body");
        headers = List.copyOf(headers);
        if (headers.size() % 2 != 0) {
            throw new IllegalArgumentException("headers come in name/value pairs");
        }
        if (bodyLength < 0 || bodyLength > body.length) {
            throw new IllegalArgumentException("body length " + bodyLength + " outside 0.." + body.length);
        }
    }

    public static UpstreamRequest post(URI uri, byte[] body, String... headers) {
        return new UpstreamRequest(uri, List.of(headers), body, body.length);
    }
}
