package io.streamingllm.core.engine.http;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transports against scripted HTTP/1.1 servers on loopback: what the engines rely on from both (streaming as
 * chunks arrive, failures, cancel), and the socket transport's own framing and keep-alive.
 */
class StreamingHttpTest {
    private final SocketStreamingHttp http = new SocketStreamingHttp(Duration.ofSeconds(2));
    private final List<AutoCloseable> servers = new CopyOnWriteArrayList<>();

    static Stream<Named<Function<Duration, StreamingHttp>>> transports() {
        return Stream.of(Named.of("sockets", SocketStreamingHttp::new), Named.of("java.net.http", JdkStreamingHttp::new));
    }

    private StreamingHttp transport(Function<Duration, StreamingHttp> make) {
        StreamingHttp t = make.apply(Duration.ofSeconds(2));
        servers.add(t);
        return t;
    }

    @AfterEach
    void close() throws Exception {
        http.close();
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    @Test
    void chunkedBodyReachesTheSubscriberAsEachChunkArrivesAndTheConnectionIsKept() throws Exception {
        CountDownLatch firstSeen = new CountDownLatch(1);
        Server server = server((in, out, n) -> {
            String request = readRequest(in);
            assertTrue(request.startsWith("POST /api/chat HTTP/1.1\r\n"), request);
            assertTrue(request.contains("\r\nContent-Type: application/json\r\n"), request);
            assertTrue(request.endsWith("\r\n\r\n{\"n\":" + n + "}"), request);
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("one\n"));
            if (n == 1) {
                assertTrue(firstSeen.await(5, TimeUnit.SECONDS), "the first chunk reached the subscriber before the second was sent");
            }
            write(out, chunk("two\n") + "0\r\n\r\n");
            return true;
        });
        Collecting first = new Collecting(firstSeen);
        http.send(post(server, "{\"n\":1}"), first).get(5, TimeUnit.SECONDS);
        assertEquals("one\ntwo\n", first.text());

        Collecting second = new Collecting(null);
        http.send(post(server, "{\"n\":2}"), second).get(5, TimeUnit.SECONDS);
        assertEquals("one\ntwo\n", second.text());
        assertEquals(1, server.accepted.get(), "the second call went over the kept-alive connection");
        assertEquals(1, http.idleConnections());
    }

    @Test
    void aCallReadToItsFinalRecordBeforeItsSendReturnedKeepsItsConnection() throws Exception {
        // a loaded machine: the call's thread reads the whole answer while the caller's thread is still in send
        CountDownLatch terminator = new CountDownLatch(1);
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("done\n"));
            assertTrue(terminator.await(5, TimeUnit.SECONDS));
            write(out, "0\r\n\r\n");
            return true;
        });
        CountDownLatch finalRecord = new CountDownLatch(1);
        StreamingHttp slowToReturn = new StreamingHttp() {
            @Override
            public CompletableFuture<Void> send(UpstreamRequest request, HttpResponse.BodyHandler<Void> handler) {
                CompletableFuture<Void> exchange = http.send(request, handler);
                try {
                    assertTrue(finalRecord.await(5, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return exchange;
            }

            @Override
            public void close() {
            }
        };
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try {
            OneRecordCall call = new OneRecordCall(slowToReturn, timers, finalRecord);
            call.start(post(server, "{}"));
            terminator.countDown();
            assertEquals("done", call.result().get(5, TimeUnit.SECONDS).text());
            assertEquals(1, http.idleConnections(), "the connection is kept for the next call");
        } finally {
            timers.shutdownNow();
        }
    }

    /** A call whose answer is one record, {@code done}: the smallest engine on {@link StreamedCall}. */
    private static final class OneRecordCall extends StreamedCall {
        private final CountDownLatch finalRecord;
        private volatile GenerationResult last;

        OneRecordCall(StreamingHttp http, ScheduledExecutorService timers, CountDownLatch finalRecord) {
            super(http, timers, TimeUnit.SECONDS.toNanos(5), 1024, "one-record-result");
            this.finalRecord = finalRecord;
        }

        @Override
        public boolean line(byte[] bytes, int offset, int length) {
            String record = new String(bytes, offset, length, StandardCharsets.UTF_8);
            if (record.equals("done") && stop.compareAndSet(null, Stop.FINISHED)) {
                last = new GenerationResult(record, FinishReason.STOP, -1, 1, 0, 0, 0, 0, false);
                drainGuard();
                finalRecord.countDown();
            }
            return true;
        }

        @Override
        protected void failedWith(Throwable cause) {
            settle(last, last != null ? null : new IOException("ended before the final record", cause));
        }

        @Override
        protected void failedWithStatus(int status, HttpHeaders headers, byte[] body, UpstreamRequest request) {
            settle(null, new IOException("HTTP " + status));
        }

        @Override
        protected void finishCancelled() {
            settle(new GenerationResult("", FinishReason.CANCELLED, -1, 0, 0, 0, 0, 0, false), null);
        }

        @Override
        protected EngineException timedOut() {
            return new EngineException(EngineException.Kind.TIMEOUT, "timed out");
        }
    }

    @Test
    void aKeptConnectionTheServerClosedMeanwhileIsReplacedAndTheRequestSentOnce() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        Server server = server((in, out, n) -> {
            readRequest(in);
            requests.incrementAndGet();
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
            return false; // then closes the connection without having said so
        });
        Collecting first = new Collecting(null);
        http.send(post(server, "{}"), first).get(5, TimeUnit.SECONDS);
        server.closedConnections.poll(5, TimeUnit.SECONDS);
        Collecting second = new Collecting(null);
        http.send(post(server, "{}"), second).get(5, TimeUnit.SECONDS);
        assertEquals("abc", second.text());
        assertEquals(2, requests.get(), "one request per call");
        assertEquals(2, server.accepted.get());
    }

    @Test
    void aBodyUpToTheEndOfTheStreamIsDeliveredAndItsConnectionNotKept() throws Exception {
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nline 1\nline 2");
            return false;
        });
        Collecting c = new Collecting(null);
        http.send(post(server, "{}"), c).get(5, TimeUnit.SECONDS);
        assertEquals("line 1\nline 2", c.text());
        assertTrue(c.completed);
        assertEquals(0, http.idleConnections());
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aRefusedConnectionFailsTheCallAsUnreachable(Function<Duration, StreamingHttp> make) throws Exception {
        StreamingHttp http = transport(make);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CompletableFuture<Void> call = http.send(UpstreamRequest.post(URI.create("http://127.0.0.1:" + port + "/x"),
                new byte[0]), new Collecting(null));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertTrue(TransportFailures.isUnreachable(e.getCause()), String.valueOf(e.getCause()));
        assertEquals("connection refused", TransportFailures.describe(e.getCause()));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void cancelClosesTheConnectionMidBody(Function<Duration, StreamingHttp> make) throws Exception {
        StreamingHttp http = transport(make);
        CountDownLatch firstSeen = new CountDownLatch(1);
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("token\n"));
            return in.read() >= 0; // waits for the client to go: -1 when it closed the connection
        });
        CompletableFuture<Void> call = http.send(post(server, "{}"), new Collecting(firstSeen));
        assertTrue(firstSeen.await(5, TimeUnit.SECONDS));
        call.cancel(true);
        assertEquals("closed", server.closedConnections.poll(5, TimeUnit.SECONDS), "the server saw the connection end");
        assertThrows(CancellationException.class, call::join);
    }

    @ParameterizedTest
    @MethodSource("transports")
    void anErrorStatusGivesTheHandlerItsStatusAndBody(Function<Duration, StreamingHttp> make) throws Exception {
        StreamingHttp http = transport(make);
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                    + "{\"error\":\"model not found\"}");
            return true;
        });
        CompletableFuture<String> error = new CompletableFuture<>();
        AtomicInteger status = new AtomicInteger();
        http.send(post(server, "{}"), info -> {
            status.set(info.statusCode());
            assertEquals("application/json", info.headers().firstValue("content-type").orElseThrow());
            return new ErrorBody(1024, bytes -> error.complete(new String(bytes, StandardCharsets.UTF_8)),
                    error::completeExceptionally);
        }).get(5, TimeUnit.SECONDS);
        assertEquals(404, status.get());
        assertEquals("{\"error\":\"model not found\"}", error.get(5, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aBodyCutShortIsAFailureOfTheSubscriber(Function<Duration, StreamingHttp> make) throws Exception {
        StreamingHttp http = transport(make);
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
            return false;
        });
        Collecting c = new Collecting(null);
        http.send(post(server, "{}"), c);
        c.body.get(5, TimeUnit.SECONDS);
        assertEquals("only this", c.text());
        assertInstanceOf(IOException.class, c.failure, "the subscriber is told the body broke off");
        assertTrue(!c.completed);
    }

    @ParameterizedTest
    @MethodSource("transports")
    void somethingThatIsNotHttpFailsTheCallNamingWhatCame(Function<Duration, StreamingHttp> make) throws Exception {
        StreamingHttp http = transport(make);
        Server server = server((in, out, n) -> {
            readRequest(in);
            write(out, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
            return false;
        });
        CompletableFuture<Void> call = http.send(post(server, "{}"), new Collecting(null));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause());
    }

    // --- scripted server ---

    private interface Script {
        /** Serves request {@code n} (1, 2, …) of the server; true to keep the connection for the next one. */
        boolean serve(InputStream in, OutputStream out, int n) throws Exception;
    }

    private static final class Server implements AutoCloseable {
        final ServerSocket socket;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger served = new AtomicInteger();
        final BlockingQueue<String> closedConnections = new LinkedBlockingQueue<>();
        final List<Socket> open = new CopyOnWriteArrayList<>();

        Server(Script script) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        accepted.incrementAndGet();
                        open.add(s);
                        Thread.ofVirtual().start(() -> {
                            try (s) {
                                while (script.serve(s.getInputStream(), s.getOutputStream(), served.incrementAndGet())) {
                                    // next request on the same connection
                                }
                            } catch (Throwable ignored) {
                                // the test's assertions see what the client got
                            }
                            closedConnections.add("closed");
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + path);
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }

    private Server server(Script script) throws IOException {
        Server s = new Server(script);
        servers.add(s);
        return s;
    }

    private static UpstreamRequest post(Server server, String json) {
        return UpstreamRequest.post(server.uri("/api/chat"), json.getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json");
    }

    /** The request's head and its Content-Length body, as text. */
    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("client went before a whole request");
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int at = h.indexOf("Content-Length: ") + "Content-Length: ".length();
        int length = Integer.parseInt(h.substring(at, h.indexOf("\r\n", at)));
        return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String chunk(String s) {
        return Integer.toHexString(s.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + s + "\r\n";
    }

    /** Collects the body's pieces as text; counts down {@code first} on the first piece. */
    private static final class Collecting implements HttpResponse.BodyHandler<Void>, HttpResponse.BodySubscriber<Void> {
        final List<String> pieces = new CopyOnWriteArrayList<>();
        final CountDownLatch first;
        final CompletableFuture<Void> body = new CompletableFuture<>();
        volatile boolean completed;
        volatile Throwable failure;
        Flow.Subscription subscription;

        Collecting(CountDownLatch first) {
            this.first = first;
        }

        String text() {
            return String.join("", pieces);
        }

        @Override
        public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo info) {
            return this;
        }

        @Override
        public CompletionStage<Void> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                pieces.add(StandardCharsets.UTF_8.decode(b).toString());
            }
            if (first != null) {
                first.countDown();
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            failure = t;
            body.complete(null);
        }

        @Override
        public void onComplete() {
            completed = true;
            body.complete(null);
        }
    }
}
