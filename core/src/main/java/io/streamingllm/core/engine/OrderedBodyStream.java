package io.streamingllm.core.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A response body as a blocking {@link InputStream}, like {@code BodySubscribers.ofInputStream()}, except
 * that bytes received before a failure are read before the failure is thrown. The JDK's stream checks
 * for a failure before it hands out buffers it already holds, so a connection dropped mid-stream could
 * lose the last tokens Ollama sent. Here data and the end signal share one FIFO queue.
 */
final class OrderedBodyStream extends InputStream implements HttpResponse.BodySubscriber<InputStream> {
    private static final Object END = new Object();
    private static final Object CLOSED = new Object();

    private final LinkedBlockingQueue<Object> signals = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean closed;
    private Iterator<ByteBuffer> buffers;
    private ByteBuffer current;
    private boolean ended;
    private IOException failure;

    @Override
    public CompletionStage<InputStream> getBody() {
        return CompletableFuture.completedStage(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (closed) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        signals.add(item);
    }

    @Override
    public void onError(Throwable t) {
        signals.add(t);
    }

    @Override
    public void onComplete() {
        signals.add(END);
    }

    @Override
    public int read() throws IOException {
        ByteBuffer b = current();
        return b == null ? -1 : b.get() & 0xff;
    }

    @Override
    public int read(byte[] into, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, into.length);
        if (len == 0) {
            return 0;
        }
        ByteBuffer b = current();
        if (b == null) {
            return -1;
        }
        int n = Math.min(len, b.remaining());
        b.get(into, off, n);
        return n;
    }

    /** The buffer to read from next; null at the end of the body; the failure once the data before it is read. */
    @SuppressWarnings("unchecked")
    private ByteBuffer current() throws IOException {
        while (current == null || !current.hasRemaining()) {
            if (closed) {
                throw new IOException("closed");
            }
            if (buffers != null && buffers.hasNext()) {
                current = buffers.next();
                continue;
            }
            if (ended) {
                if (failure != null) {
                    throw failure;
                }
                return null;
            }
            Object signal;
            try {
                signal = signals.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading the response body");
            }
            if (signal == END) {
                ended = true;
            } else if (signal instanceof Throwable t) {
                ended = true;
                failure = t instanceof IOException io ? io : new IOException(t.getMessage(), t);
            } else if (signal != CLOSED) {
                buffers = ((List<ByteBuffer>) signal).iterator();
                subscription.request(1);
            }
        }
        return current;
    }

    /** Stops reading: the subscription is cancelled (the HTTP exchange is aborted) and a blocked reader wakes up. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        signals.add(CLOSED);
    }
}
