package io.streamingllm.core.engine.http;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * The body of an answer that is not the stream asked for (an HTTP error): read up to {@code limit} bytes, then handed
 * over once, as bytes when the body ended or reached the limit, or as the failure that broke it. Signals come from
 * the HTTP client one at a time (the reactive-streams rule), so no state here is shared.
 */
public final class ErrorBody implements HttpResponse.BodySubscriber<Void> {
    private final int limit;
    private final Consumer<byte[]> complete;
    private final Consumer<Throwable> failed;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private Flow.Subscription subscription;

    public ErrorBody(int limit, Consumer<byte[]> complete, Consumer<Throwable> failed) {
        this.limit = limit;
        this.complete = complete;
        this.failed = failed;
    }

    @Override
    public CompletionStage<Void> getBody() {
        return done;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        for (ByteBuffer b : item) {
            int n = Math.min(b.remaining(), limit - bytes.size());
            byte[] chunk = new byte[n];
            b.get(chunk);
            bytes.writeBytes(chunk);
        }
        if (bytes.size() >= limit) {
            subscription.cancel();
            onComplete();
        }
    }

    @Override
    public void onError(Throwable t) {
        if (done.complete(null)) {
            failed.accept(t);
        }
    }

    @Override
    public void onComplete() {
        if (done.complete(null)) {
            complete.accept(bytes.toByteArray());
        }
    }
}
