package io.streamingllm.core.engine.http;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Streamed calls over HTTP/1.1 on plain sockets, each call run by its own virtual thread: it connects (or takes a
 * kept-alive connection), writes the request in one write, and parses the response where it reads it, feeding the
 * body to the handler's subscriber piece by piece from its read buffer.
 *
 * <p>Why not the JDK's client here: its {@code sendAsync} took about a third of a relayed turn's CPU (an exchange,
 * filters and a chain of completion stages per call), and it reads every response on one selector thread, so when
 * 200 turns start in the same millisecond their requests and first tokens queue on one core. Here a call costs a
 * virtual thread and the calls spread over the cores.
 *
 * <p>A request of up to {@value #CALLER_WRITE_BYTES} bytes with a kept-alive connection at hand is written on the
 * caller's thread before the call's thread starts: in a burst of turn starts a new virtual thread waits behind
 * every other runnable one (measured with 200 turns started together on 2 cores: 1 ms at the median, 10-16 ms at
 * p99), and the upstream's work should not wait for that: its first token takes longer than the wait. A larger request, or one that needs a new connection, is written by the
 * call's thread, so that the caller never waits on a connect or on an upstream that reads slowly.
 *
 * <p>Connections: kept alive per host and port after a body that ended by its framing (chunked or
 * {@code Content-Length}) unless the server said {@code Connection: close}; at most {@value #MAX_IDLE_PER_HOST}
 * idle per host, the most recently used first. A call on a kept-alive connection that the server has closed
 * meanwhile (nothing of a response read) is sent once more on a new connection. Bodies: chunked,
 * {@code Content-Length}, or up to the end of the stream. No TLS, no proxies, no redirects: upstreams are
 * named by their own URL. Thread-safe.
 */
public final class SocketStreamingHttp implements StreamingHttp {
    static final int MAX_IDLE_PER_HOST = 1024;
    static final int MAX_HEAD_BYTES = 64 * 1024;
    static final int BUFFER_BYTES = 16 * 1024;
    /** Below a loopback or LAN socket's send buffer, so that writing it does not wait for the upstream to read. */
    static final int CALLER_WRITE_BYTES = 32 * 1024;

    private final int connectTimeoutMillis;
    private final Map<String, Idle> idle = new ConcurrentHashMap<>();
    private final Set<Call> calls = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public SocketStreamingHttp(Duration connectTimeout) {
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
    }

    @Override
    public CompletableFuture<Void> send(UpstreamRequest request, HttpResponse.BodyHandler<Void> handler) {
        if (!"http".equalsIgnoreCase(request.uri().getScheme()) || request.uri().getHost() == null) {
            throw new IllegalArgumentException("not an http://HOST URL: " + request.uri());
        }
        Call call = new Call(request, handler);
        calls.add(call);
        if (closed) {
            call.cancel(true);
            return call;
        }
        call.writeEarly();
        Thread.ofVirtual().name("upstream-call").start(call::run);
        return call;
    }

    /** Idle kept-alive connections now, over all hosts. For tests. */
    int idleConnections() {
        return idle.values().stream().mapToInt(i -> i.count.get()).sum();
    }

    @Override
    public void close() {
        closed = true;
        for (Call c : calls) {
            c.cancel(true);
        }
        for (Idle i : idle.values()) {
            for (SocketConnection c; (c = i.connections.pollFirst()) != null; ) {
                c.close();
            }
        }
    }

    private static String hostKey(URI uri) {
        return uri.getHost().toLowerCase(Locale.ROOT) + ":" + port(uri);
    }

    private static int port(URI uri) {
        return uri.getPort() == -1 ? 80 : uri.getPort();
    }

    private SocketConnection takeIdle(String key) {
        Idle i = idle.get(key);
        if (i == null) {
            return null;
        }
        SocketConnection c = i.connections.pollFirst();
        if (c != null) {
            i.count.decrementAndGet();
        }
        return c;
    }

    private void keep(String key, SocketConnection c) {
        Idle i = idle.computeIfAbsent(key, k -> new Idle());
        if (closed || i.count.incrementAndGet() > MAX_IDLE_PER_HOST) {
            i.count.decrementAndGet();
            c.close();
            return;
        }
        i.connections.addFirst(c);
        if (closed && i.connections.remove(c)) {
            i.count.decrementAndGet();
            c.close();
        }
    }

    private SocketConnection connect(URI uri) throws IOException {
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true); // token-sized writes and reads: no waiting for a full segment
            s.connect(new InetSocketAddress(host, port(uri)), connectTimeoutMillis);
            return new SocketConnection(s);
        } catch (SocketTimeoutException e) {
            s.close();
            HttpConnectTimeoutException t = new HttpConnectTimeoutException("connect timed out after "
                    + connectTimeoutMillis + " ms");
            t.initCause(e);
            throw t;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private static byte[] head(UpstreamRequest r) {
        URI uri = r.uri();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        StringBuilder sb = new StringBuilder(160).append("POST ").append(path).append(" HTTP/1.1\r\nHost: ")
                .append(uri.getHost());
        if (uri.getPort() != -1) {
            sb.append(':').append(uri.getPort());
        }
        sb.append("\r\nContent-Length: ").append(r.bodyLength()).append("\r\n");
        List<String> h = r.headers();
        for (int i = 0; i < h.size(); i += 2) {
            String name = h.get(i);
            String value = h.get(i + 1);
            if (name.indexOf('\r') >= 0 || name.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("header " + name + " contains a line break");
            }
            sb.append(name).append(": ").append(value).append("\r\n");
        }
        byte[] headBytes = sb.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[headBytes.length + r.bodyLength()];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(r.body(), 0, all, headBytes.length, r.bodyLength());
        return all;
    }

    /** Idle connections to one host and port, with their count (a deque's size is not constant-time). */
    private static final class Idle {
        final ConcurrentLinkedDeque<SocketConnection> connections = new ConcurrentLinkedDeque<>();
        final AtomicInteger count = new AtomicInteger();
    }

    /** The subscriber's demand; its cancel aborts the call, so a read blocked on the socket returns at once. */
    private static final class Demand implements Flow.Subscription {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition more = lock.newCondition();
        private final Call call;
        private long demand;
        private volatile boolean cancelled;

        Demand(Call call) {
            this.call = call;
        }

        @Override
        public void request(long n) {
            lock.lock();
            try {
                demand = n <= 0 || demand + n < 0 ? Long.MAX_VALUE : demand + n;
                more.signal();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            call.closeConnection();
            lock.lock();
            try {
                more.signal();
            } finally {
                lock.unlock();
            }
        }

        /** Waits for demand; false once cancelled. */
        boolean take() throws InterruptedException {
            lock.lock();
            try {
                while (demand == 0 && !cancelled) {
                    more.await();
                }
                if (cancelled) {
                    return false;
                }
                if (demand != Long.MAX_VALUE) {
                    demand--;
                }
                return true;
            } finally {
                lock.unlock();
            }
        }
    }

    /** One call: its future, run by its own virtual thread. */
    private final class Call extends CompletableFuture<Void> {
        private final UpstreamRequest request;
        private final HttpResponse.BodyHandler<Void> handler;
        private volatile SocketConnection connection;
        private volatile boolean aborted;
        private final String key;
        private final byte[] requestBytes;
        /** The kept-alive connection the caller's thread wrote the request on, if it did. */
        private SocketConnection written;

        Call(UpstreamRequest request, HttpResponse.BodyHandler<Void> handler) {
            this.request = request;
            this.handler = handler;
            this.key = hostKey(request.uri());
            this.requestBytes = head(request);
        }

        /** On the caller's thread: a small request goes out at once on a kept-alive connection, if one is idle. */
        void writeEarly() {
            if (requestBytes.length > CALLER_WRITE_BYTES) {
                return;
            }
            SocketConnection c = takeIdle(key);
            if (c == null) {
                return;
            }
            connection = c;
            if (aborted) {
                c.close();
                return;
            }
            c.readSinceRequest = 0;
            try {
                c.out.write(requestBytes);
                c.out.flush();
                written = c;
            } catch (IOException e) {
                c.close(); // closed by the server while idle: the call's thread sends it on a new connection
                connection = null;
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            aborted = true;
            boolean cancelled = super.cancel(mayInterruptIfRunning); // before the close, which ends the call's thread
            closeConnection();
            calls.remove(this);
            return cancelled;
        }

        void closeConnection() {
            SocketConnection c = connection;
            if (c != null) {
                c.close();
            }
        }

        void run() {
            Flow.Subscriber<?> subscriber = null;
            Demand demand = new Demand(this);
            try {
                SocketConnection c = exchange();
                ResponseHead head = ResponseHead.read(c);
                HttpResponse.BodySubscriber<Void> body = handler.apply(head);
                subscriber = body;
                body.onSubscribe(demand);
                boolean framed = body(c, head, body, demand);
                if (demand.cancelled || aborted) {
                    c.close();
                } else {
                    // idle again before the subscriber hears of the end: a caller that starts its next call as soon
                    // as this one's result is complete finds the connection kept
                    connection = null;
                    if (framed && head.keepAlive() && c.pos == c.limit) {
                        keep(key, c);
                    } else {
                        c.close();
                    }
                    body.onComplete();
                }
                complete(null);
            } catch (Throwable e) {
                closeConnection();
                if (aborted || demand.cancelled) {
                    complete(null); // stopped on purpose: nothing to report (a cancelled future stays cancelled)
                } else {
                    if (subscriber != null) {
                        subscriber.onError(e);
                    }
                    completeExceptionally(e);
                }
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            } finally {
                calls.remove(this);
            }
        }

        /** Writes the request on a kept-alive connection or a new one; once more on a new one if the kept one was closed. */
        private SocketConnection exchange() throws IOException {
            SocketConnection c = written != null ? written : takeIdle(key);
            boolean sent = written != null;
            while (true) {
                boolean reused = c != null;
                if (c == null) {
                    c = connect(request.uri());
                }
                connection = c;
                if (aborted) {
                    c.close();
                    throw new CancellationException("call cancelled");
                }
                try {
                    if (!sent) {
                        c.readSinceRequest = 0;
                        c.out.write(requestBytes);
                        c.out.flush();
                    }
                    sent = false;
                    if (c.fill()) {
                        return c;
                    }
                    throw new EOFException("connection closed before the response");
                } catch (IOException e) {
                    c.close();
                    if (!reused || aborted || c.readSinceRequest > 0) {
                        throw e;
                    }
                    c = null; // the server closed the kept-alive connection while it was idle
                }
            }
        }

        /** Feeds the body to {@code sub}; true when it ended by its framing (the connection may be kept). */
        private boolean body(SocketConnection c, ResponseHead head, HttpResponse.BodySubscriber<Void> sub, Demand demand)
                throws IOException, InterruptedException {
            if (head.chunked()) {
                int[] budget = {MAX_HEAD_BYTES};
                while (true) {
                    String sizeLine = c.line(budget);
                    int semi = sizeLine.indexOf(';');
                    long size;
                    try {
                        size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                    } catch (NumberFormatException e) {
                        throw new IOException("malformed chunk size: " + sizeLine);
                    }
                    if (size < 0) {
                        throw new IOException("malformed chunk size: " + sizeLine);
                    }
                    if (size == 0) {
                        while (!c.line(budget).isEmpty()) {
                            // trailers: none of them matter here
                        }
                        return true;
                    }
                    if (!feed(c, size, sub, demand)) {
                        return false;
                    }
                    if (!c.line(budget).isEmpty()) {
                        throw new IOException("chunk not followed by a line break");
                    }
                    budget[0] = MAX_HEAD_BYTES;
                }
            }
            if (head.contentLength() >= 0) {
                return feed(c, head.contentLength(), sub, demand);
            }
            feed(c, Long.MAX_VALUE, sub, demand);
            return false;
        }

        /** Feeds up to {@code n} bytes (to the end of the stream for MAX_VALUE); false when stopped early. */
        private boolean feed(SocketConnection c, long n, HttpResponse.BodySubscriber<Void> sub, Demand demand)
                throws IOException, InterruptedException {
            long left = n;
            while (left > 0) {
                if (!c.fill()) {
                    if (n == Long.MAX_VALUE) {
                        return true;
                    }
                    throw new EOFException("connection closed " + left + " bytes before the end of the body");
                }
                int take = (int) Math.min(left, c.limit - c.pos);
                if (!demand.take()) {
                    return false;
                }
                ByteBuffer piece = ByteBuffer.wrap(c.buf, c.pos, take);
                c.pos += take;
                left -= take;
                sub.onNext(List.of(piece));
                if (demand.cancelled || aborted) {
                    return false;
                }
            }
            return true;
        }
    }
}
