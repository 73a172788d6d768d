package io.streamingllm.core.engine.http;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Streamed calls through the JDK's {@link HttpClient}: the transport for {@code https} upstreams. Thread-safe. */
public final class JdkStreamingHttp implements StreamingHttp {
    private final HttpClient http;

    public JdkStreamingHttp(Duration connectTimeout) {
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                // responses are handled on the client's selector thread: listeners only enqueue, and a hand-off to a
                // pool thread per read cost more than the records' parsing
                .executor(Runnable::run)
                .build();
    }

    @Override
    public CompletableFuture<Void> send(UpstreamRequest request, HttpResponse.BodyHandler<Void> handler) {
        HttpRequest.Builder b = HttpRequest.newBuilder(request.uri())
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.body(), 0, request.bodyLength()));
        for (int i = 0; i < request.headers().size(); i += 2) {
            b.header(request.headers().get(i), request.headers().get(i + 1));
        }
        CompletableFuture<HttpResponse<Void>> exchange = http.sendAsync(b.build(), handler);
        CompletableFuture<Void> call = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                // first: aborting the exchange may complete it at once, which would complete this call normally
                boolean cancelled = super.cancel(mayInterruptIfRunning);
                exchange.cancel(true);
                return cancelled;
            }
        };
        exchange.whenComplete((r, e) -> {
            if (e != null) {
                call.completeExceptionally(e);
            } else {
                call.complete(null);
            }
        });
        return call;
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
