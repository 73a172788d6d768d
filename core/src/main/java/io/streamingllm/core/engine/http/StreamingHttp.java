package io.streamingllm.core.engine.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * How an engine sends its streamed calls: the request, and a handler that turns the response's status and headers
 * into the subscriber its body is fed to, as {@link HttpClient#sendAsync} takes them. The future fails when the call
 * fails before the response's head (refused, unknown host, connect timeout, dropped), completes when the body has
 * ended (or its subscriber stopped it), and {@code cancel} aborts the call at any point. Thread-safe.
 */
public interface StreamingHttp extends AutoCloseable {
    CompletableFuture<Void> send(UpstreamRequest request, HttpResponse.BodyHandler<Void> handler);

    /** Aborts calls under way and frees kept-alive connections. */
    @Override
    void close();

    /**
     * Plain {@code http} upstreams (Ollama, llama-server, vLLM on the local network) get {@link SocketStreamingHttp};
     * {@code https} ones (hosted APIs) the JDK's client, which brings TLS.
     */
    static StreamingHttp forUri(URI base, Duration connectTimeout) {
        return "http".equalsIgnoreCase(base.getScheme()) ? new SocketStreamingHttp(connectTimeout)
                : new JdkStreamingHttp(connectTimeout);
    }
}
