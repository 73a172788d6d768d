package io.streamingllm.core.testing;

import io.streamingllm.core.engine.echo.WordTokens;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * A fake Ollama <em>server</em> for tests and benchmarks: a real HTTP/1.1 server on a loopback
 * ephemeral port that speaks Ollama's documented wire format (same field names, types and record
 * order): {@code POST /api/chat} and {@code POST /api/generate} streaming NDJSON (chunked) or one JSON
 * object with {@code "stream": false}, {@code GET /api/tags}, {@code POST /api/show},
 * {@code GET /api/version}, {@code POST /api/embed}, {@code GET /} ("Ollama is running"). A request for a model that is not
 * listed answers {@code 404 {"error":"model \"NAME\" not found, try pulling it first"}}, as Ollama does;
 * {@code options.num_predict} caps the answer with {@code done_reason: "length"}.
 *
 * <p>What the generation endpoints answer is scripted with {@link Reply} (default {@link Reply#echo()}):
 * tokens, per-token delay, slow headers, reported counts and durations, a per-token gate the test
 * controls, and failures (HTTP error, {@code {"error":…}} record mid-stream, dropped connection,
 * malformed line, stall).
 *
 * <p>Every request is recorded as an {@link Exchange} (method, path, headers, parsed JSON body) that
 * also observes the client: {@link Exchange#clientClosed()} completes with the {@link System#nanoTime()}
 * at which the fake saw the client close the connection before the response ended, including while
 * the fake is still holding back the headers or the first token (a reader thread watches the socket
 * for end of stream). One virtual thread reads each connection, another writes its responses, so
 * a thousand concurrent streams are cheap; with no delay and no gate, records are written in
 * buffered chunks rather than flushed one by one.
 *
 * <pre>{@code
 * try (FakeOllama ollama = FakeOllama.start("llama3.2:latest")) {
 *     ollama.reply(Reply.tokens("Hello", " world").tokenDelay(Duration.ofMillis(5)));
 *     ... point the client at ollama.baseUri() ...
 *     FakeOllama.Exchange chat = ollama.awaitExchange("/api/chat", 0, Duration.ofSeconds(5));
 *     chat.json().getJsonObject("options");
 * }
 * }</pre>
 */
public final class FakeOllama implements AutoCloseable {
    /** The version {@code GET /api/version} reports unless changed with {@link #version(String)}. */
    public static final String DEFAULT_VERSION = "0.12.6";

    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;

    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final List<Exchange> exchanges = new ArrayList<>();
    private final AtomicLong requestCount = new AtomicLong();
    private volatile List<String> models;
    private volatile Function<Exchange, Reply> script = ex -> Reply.echo();
    private volatile String version = DEFAULT_VERSION;
    private volatile boolean recording = true;
    private volatile boolean closed;

    private FakeOllama(List<String> models, int port) throws IOException {
        this.models = List.copyOf(models);
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        acceptor = Thread.ofVirtual().name("fake-ollama-accept").start(this::acceptLoop);
    }

    /** Starts a fake serving {@code llama3.2:latest}, answering with {@link Reply#echo()}. */
    public static FakeOllama start() {
        return start("llama3.2:latest");
    }

    /** Starts a fake that lists and serves {@code models} ({@code NAME} means {@code NAME:latest}). */
    public static FakeOllama start(String... models) {
        try {
            return new FakeOllama(Arrays.asList(models), 0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot bind a loopback port for the fake Ollama", e);
        }
    }

    /** Starts a fake on loopback port {@code port}: an upstream that was closed coming back at its URL. */
    public static FakeOllama startOn(int port, String... models) {
        try {
            return new FakeOllama(Arrays.asList(models), port);
        } catch (IOException e) {
            throw new IllegalStateException("cannot bind loopback port " + port + " for the fake Ollama", e);
        }
    }

    /** {@code http://127.0.0.1:PORT}, the value for {@code STREAMING_LLM_OLLAMA_URL}. */
    public URI baseUri() {
        return URI.create("http://" + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort());
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Replaces the models the fake lists ({@code /api/tags}) and serves; others answer 404. */
    public FakeOllama models(String... names) {
        this.models = List.of(names);
        return this;
    }

    /** Every later {@code /api/chat} and {@code /api/generate} request answers with {@code reply}. */
    public FakeOllama reply(Reply reply) {
        Objects.requireNonNull(reply, "reply");
        this.script = ex -> reply;
        return this;
    }

    /** Chooses the reply per request (e.g. by its messages or by how many came before). */
    public FakeOllama reply(Function<Exchange, Reply> script) {
        this.script = Objects.requireNonNull(script, "script");
        return this;
    }

    public FakeOllama version(String version) {
        this.version = Objects.requireNonNull(version);
        return this;
    }

    /** Turns request recording off (benchmarks: millions of requests) or back on. */
    public FakeOllama recording(boolean on) {
        this.recording = on;
        return this;
    }

    /** Requests received so far, recorded or not. */
    public long requestCount() {
        return requestCount.get();
    }

    /** Connections currently open. */
    public int openConnections() {
        return connections.size();
    }

    /** The recorded requests so far, in arrival order. */
    public List<Exchange> exchanges() {
        synchronized (exchanges) {
            return List.copyOf(exchanges);
        }
    }

    /** The recorded requests to {@code path} so far, in arrival order. */
    public List<Exchange> exchanges(String path) {
        return exchanges().stream().filter(e -> e.path().equals(path)).toList();
    }

    /**
     * Waits for the {@code index}-th (0-based) recorded request to {@code path}.
     *
     * @throws AssertionError when it does not arrive in time
     */
    public Exchange awaitExchange(String path, int index, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (exchanges) {
            while (true) {
                int seen = 0;
                for (Exchange e : exchanges) {
                    if (e.path().equals(path) && seen++ == index) {
                        return e;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no request #" + index + " to " + path + " within " + timeout
                            + "; received " + exchanges.stream().map(Exchange::path).toList());
                }
                TimeUnit.NANOSECONDS.timedWait(exchanges, left);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Connection c : connections) {
            c.shutdown();
        }
        // a socket closed while a thread is blocked accepting on it lets go of its port only once that thread has
        // left accept: wait for it, so that a fake started on the same port next (startOn) can bind it
        try {
            acceptor.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                socket.setTcpNoDelay(true);
                Connection c = new Connection(socket);
                connections.add(c);
                Thread.ofVirtual().name("fake-ollama-conn").start(c::readLoop);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void record(Exchange e) {
        requestCount.incrementAndGet();
        if (!recording) {
            return;
        }
        synchronized (exchanges) {
            exchanges.add(e);
            exchanges.notifyAll();
        }
    }

    private boolean serves(String model) {
        String wanted = withTag(model);
        return models.stream().anyMatch(m -> withTag(m).equals(wanted));
    }

    static String withTag(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 ? name : name + ":latest";
    }

    // ------------------------------------------------------------------------------------------------
    // Scripting

    /** Blocks before the fake writes token {@code index} (0-based); lets a test pace the stream. */
    @FunctionalInterface
    public interface TokenGate {
        void beforeToken(int index) throws InterruptedException;
    }

    /** What happens after the answer streamed {@code afterTokens} tokens, or {@code NONE}. */
    public enum Failure {
        /** Stream to the end. */
        NONE,
        /** Answer {@code status} with {@code {"error": message}} instead of streaming. */
        HTTP_ERROR,
        /** Write an {@code {"error": message}} record, then end the response (status stays 200). */
        ERROR_RECORD,
        /** Close the socket abruptly (no final record, no last chunk). */
        DROP,
        /** Write a line that is not JSON, then end the response. */
        MALFORMED_LINE,
        /** Send nothing more and keep the connection open until the client closes it. */
        STALL,
        /** Send no status line at all until the client closes the connection. */
        STALL_BEFORE_HEADERS
    }

    /**
     * How the fake answers a generation request. Immutable: each method returns a changed copy.
     * Durations in the final record are measured unless set with {@link #durations}.
     */
    /** A tool call a reply makes; {@code arguments} is written as is (a JSON object, or anything to break it). */
    public record Call(String name, String arguments) {
    }

    private static String toolCalls(List<Call> calls) {
        StringBuilder out = new StringBuilder(",\"tool_calls\":[");
        for (int i = 0; i < calls.size(); i++) {
            out.append(i == 0 ? "" : ",").append("{\"function\":{\"name\":").append(str(calls.get(i).name()))
                    .append(",\"arguments\":").append(calls.get(i).arguments()).append("}}");
        }
        return out.append(']').toString();
    }

    public static final class Reply {
        private List<String> tokens;          // null: echo the request
        private Duration tokenDelay = Duration.ZERO;
        private Duration headerDelay = Duration.ZERO;
        private Integer promptEvalCount;
        private String doneReason = "stop";
        private long[] durations;
        private TokenGate gate;
        private Failure failure = Failure.NONE;
        private int failAfter;
        private int status = 200;
        private String message = "";
        private List<Call> calls = List.of();

        private Reply() {
        }

        private Reply copy() {
            Reply r = new Reply();
            r.tokens = tokens;
            r.tokenDelay = tokenDelay;
            r.headerDelay = headerDelay;
            r.promptEvalCount = promptEvalCount;
            r.doneReason = doneReason;
            r.durations = durations;
            r.gate = gate;
            r.failure = failure;
            r.failAfter = failAfter;
            r.status = status;
            r.message = message;
            r.calls = calls;
            return r;
        }

        /**
         * After the tokens ({@code /api/chat} only), one record with these calls in {@code message.tool_calls}, as
         * Ollama streams them: each whole, arguments as an object, no id; the final record says {@code stop}.
         */
        public Reply toolCalls(Call... calls) {
            Reply r = copy();
            r.calls = List.of(calls);
            return r;
        }

        /** Echoes the last user message ({@code /api/chat}) or the prompt ({@code /api/generate}) word by word. */
        public static Reply echo() {
            return new Reply();
        }

        /** Answers with exactly these deltas, one record each. */
        public static Reply tokens(String... tokens) {
            return tokens(List.of(tokens));
        }

        public static Reply tokens(List<String> tokens) {
            Reply r = new Reply();
            r.tokens = List.copyOf(tokens);
            return r;
        }

        /** Waits this long before each token. */
        public Reply tokenDelay(Duration delay) {
            Reply r = copy();
            r.tokenDelay = Objects.requireNonNull(delay);
            return r;
        }

        /** Waits this long before sending the status line and headers. */
        public Reply headerDelay(Duration delay) {
            Reply r = copy();
            r.headerDelay = Objects.requireNonNull(delay);
            return r;
        }

        /** The {@code prompt_eval_count} reported (default: word tokens of all messages). */
        public Reply promptEvalCount(int count) {
            Reply r = copy();
            r.promptEvalCount = count;
            return r;
        }

        /** The {@code done_reason} of the final record when {@code num_predict} did not cut the answer. */
        public Reply doneReason(String reason) {
            Reply r = copy();
            r.doneReason = Objects.requireNonNull(reason);
            return r;
        }

        /** Reported {@code total_duration}, {@code load_duration}, {@code prompt_eval_duration}, {@code eval_duration}. */
        public Reply durations(long total, long load, long promptEval, long eval) {
            Reply r = copy();
            r.durations = new long[]{total, load, promptEval, eval};
            return r;
        }

        /** Called before each token is written; may block (e.g. until the test saw the previous one). */
        public Reply gate(TokenGate gate) {
            Reply r = copy();
            r.gate = gate;
            return r;
        }

        /** Answers {@code status} with {@code {"error": message}}, like Ollama's errors before streaming. */
        public Reply httpError(int status, String message) {
            return fail(Failure.HTTP_ERROR, 0, status, message);
        }

        /** Streams {@code tokens} tokens, then an {@code {"error": message}} record, then ends. */
        public Reply errorAfter(int tokens, String message) {
            return fail(Failure.ERROR_RECORD, tokens, 200, message);
        }

        /** Streams {@code tokens} tokens, then closes the connection without the final record. */
        public Reply dropAfter(int tokens) {
            return fail(Failure.DROP, tokens, 200, "");
        }

        /** Streams {@code tokens} tokens, then a line that is not JSON, then ends. */
        public Reply malformedAfter(int tokens) {
            return fail(Failure.MALFORMED_LINE, tokens, 200, "");
        }

        /** Streams {@code tokens} tokens (0: just the headers), then sends nothing until the client leaves. */
        public Reply stallAfter(int tokens) {
            return fail(Failure.STALL, tokens, 200, "");
        }

        /** Accepts the request but never sends the status line; the client has to give up. */
        public Reply stallBeforeHeaders() {
            return fail(Failure.STALL_BEFORE_HEADERS, 0, 200, "");
        }

        private Reply fail(Failure f, int after, int status, String message) {
            Reply r = copy();
            r.failure = f;
            r.failAfter = after;
            r.status = status;
            r.message = Objects.requireNonNull(message);
            return r;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Recorded requests

    /** One request the fake received, and what became of its connection. */
    public static final class Exchange {
        private final String method;
        private final String path;
        private final Map<String, String> headers;
        private final byte[] body;
        private final JsonObject json;
        private final long receivedNanos;
        private final CompletableFuture<Long> clientClosed = new CompletableFuture<>();
        private final CompletableFuture<Long> responseEnded = new CompletableFuture<>();
        private final CompletableFuture<Long> headersSent = new CompletableFuture<>();
        private volatile int tokensSent;

        Exchange(String method, String path, Map<String, String> headers, byte[] body, JsonObject json) {
            this.method = method;
            this.path = path;
            this.headers = headers;
            this.body = body;
            this.json = json;
            this.receivedNanos = System.nanoTime();
        }

        public String method() {
            return method;
        }

        /** Path without the query string. */
        public String path() {
            return path;
        }

        /** A request header (case-insensitive name), or null. */
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public byte[] body() {
            return body.clone();
        }

        /** The body as a JSON object, or null when there was none or it was not a JSON object. */
        public JsonObject json() {
            return json;
        }

        /** {@link System#nanoTime()} when the request was read completely. */
        public long receivedNanos() {
            return receivedNanos;
        }

        /**
         * Completes with the {@link System#nanoTime()} at which the fake saw the client close (or reset)
         * the connection before this request's response ended, whether headers were sent or not.
         * Never completes when the response ended first.
         */
        public CompletableFuture<Long> clientClosed() {
            return clientClosed;
        }

        /** Completes with the {@link System#nanoTime()} at which the fake stopped writing this response. */
        public CompletableFuture<Long> responseEnded() {
            return responseEnded;
        }

        /** Completes with the {@link System#nanoTime()} at which the headers were flushed, or the response ended. */
        public CompletableFuture<Long> headersSent() {
            return headersSent;
        }

        /** Token records written so far. */
        public int tokensSent() {
            return tokensSent;
        }

        /** Waits for {@link #clientClosed()}; returns its time. @throws AssertionError if the client stayed */
        public long awaitClientClosed(Duration timeout) throws InterruptedException {
            try {
                return clientClosed.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("client did not close the connection of " + method + " " + path + " within " + timeout);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // HTTP/1.1 over a socket: one reader thread (requests in, end of stream detection), one writer
    // thread per request (responses out, in request order).

    private final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        /** Completes with nanoTime when the client closed the connection (end of stream or reset). */
        private final CompletableFuture<Long> clientGone = new CompletableFuture<>();
        private volatile Exchange current;
        private volatile boolean serverClosing;
        /** The writer thread waiting out a token delay, woken when the client goes. */
        private volatile Thread pacedWriter;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
            clientGone.whenComplete((t, e) -> {
                Thread w = pacedWriter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            });
        }

        void readLoop() {
            Thread writer = null;
            try {
                while (true) {
                    Exchange ex = readRequest();
                    if (ex == null) {
                        clientClosed();
                        return;
                    }
                    if (writer != null) {
                        writer.join();
                    }
                    if (serverClosing) {
                        return;
                    }
                    current = ex;
                    record(ex);
                    writer = Thread.ofVirtual().name("fake-ollama-respond").start(() -> respond(ex));
                    if ("close".equalsIgnoreCase(ex.header("connection"))) {
                        writer.join();
                        serverClosing = true;
                        return;
                    }
                }
            } catch (IOException e) {
                clientClosed();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (!clientGone.isDone()) {
                    clientGone.complete(System.nanoTime());
                }
                connections.remove(this);
                closeSocket();
            }
        }

        private void clientClosed() {
            if (serverClosing) {
                return;
            }
            long now = System.nanoTime();
            Exchange ex = current;
            if (ex != null && !ex.responseEnded.isDone()) {
                ex.clientClosed.complete(now);
            }
            clientGone.complete(now);
            closeSocket();
        }

        void shutdown() {
            serverClosing = true;
            clientGone.complete(System.nanoTime());
            closeSocket();
        }

        private void closeSocket() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        /** Reads one request; null at a clean end of stream between requests. */
        private Exchange readRequest() throws IOException {
            String requestLine = readLine(true);
            if (requestLine == null) {
                return null;
            }
            while (requestLine.isEmpty()) {
                requestLine = readLine(true);
                if (requestLine == null) {
                    return null;
                }
            }
            String[] parts = requestLine.split(" ");
            if (parts.length != 3) {
                throw new IOException("bad request line: " + requestLine);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            int headerBytes = 0;
            String line;
            while (!(line = readLine(false)).isEmpty()) {
                headerBytes += line.length();
                if (headerBytes > MAX_HEADER_BYTES) {
                    throw new IOException("headers too large");
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            line.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
                }
            }
            byte[] body;
            if ("chunked".equalsIgnoreCase(headers.getOrDefault("transfer-encoding", ""))) {
                body = readChunkedBody();
            } else {
                int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                if (length < 0 || length > MAX_BODY_BYTES) {
                    throw new IOException("bad content-length " + length);
                }
                body = in.readNBytes(length);
                if (body.length != length) {
                    throw new EOFException("body cut short");
                }
            }
            String target = parts[1];
            int q = target.indexOf('?');
            String path = q >= 0 ? target.substring(0, q) : target;
            return new Exchange(parts[0], path, Collections.unmodifiableMap(headers), body, parseObject(body));
        }

        private byte[] readChunkedBody() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(false);
                int semi = sizeLine.indexOf(';');
                int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                if (size == 0) {
                    while (!readLine(false).isEmpty()) {
                        // trailers: ignored
                    }
                    return body.toByteArray();
                }
                if (body.size() + size > MAX_BODY_BYTES) {
                    throw new IOException("body too large");
                }
                byte[] chunk = in.readNBytes(size);
                if (chunk.length != size) {
                    throw new EOFException("chunk cut short");
                }
                body.write(chunk);
                readLine(false);
            }
        }

        /** A CRLF (or LF) terminated ISO-8859-1 line; null at end of stream before any byte if allowed. */
        private String readLine(boolean eofAllowed) throws IOException {
            StringBuilder sb = new StringBuilder(64);
            while (true) {
                int b = in.read();
                if (b == -1) {
                    if (eofAllowed && sb.isEmpty()) {
                        return null;
                    }
                    throw new EOFException("connection closed mid-request");
                }
                if (b == '\n') {
                    int len = sb.length();
                    if (len > 0 && sb.charAt(len - 1) == '\r') {
                        sb.setLength(len - 1);
                    }
                    return sb.toString();
                }
                if (sb.length() > MAX_HEADER_BYTES) {
                    throw new IOException("line too long");
                }
                sb.append((char) b);
            }
        }

        // -------------------------------------------------------------------------------------------

        private void respond(Exchange ex) {
            try {
                route(ex);
                out.flush();
            } catch (IOException e) {
                clientClosed();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                long now = System.nanoTime();
                ex.headersSent.complete(now);
                ex.responseEnded.complete(now);
            }
        }

        private void route(Exchange ex) throws IOException, InterruptedException {
            String key = ex.method() + " " + ex.path();
            switch (key) {
                case "GET /", "HEAD /" -> plain(ex, 200, "Ollama is running");
                case "GET /api/version", "HEAD /api/version" -> json(ex, 200, "{\"version\":" + str(version) + "}");
                case "GET /api/tags", "HEAD /api/tags" -> json(ex, 200, tags());
                case "POST /api/show" -> show(ex);
                case "POST /api/chat" -> generate(ex, true);
                case "POST /api/generate" -> generate(ex, false);
                case "POST /api/embed" -> embed(ex);
                default -> plain(ex, 404, "404 page not found");
            }
        }

        private String tags() {
            StringBuilder sb = new StringBuilder("{\"models\":[");
            List<String> list = models;
            for (int i = 0; i < list.size(); i++) {
                String name = withTag(list.get(i));
                if (i > 0) {
                    sb.append(',');
                }
                sb.append("{\"name\":").append(str(name))
                        .append(",\"model\":").append(str(name))
                        .append(",\"modified_at\":\"2025-01-01T00:00:00.000000000Z\"")
                        .append(",\"size\":").append(2_019_393_189L + i)
                        .append(",\"digest\":").append(str(digest(name)))
                        .append(",\"details\":").append(details()).append('}');
            }
            return sb.append("]}").toString();
        }

        private static String details() {
            return "{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\",\"families\":[\"llama\"],"
                    + "\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}";
        }

        private static String digest(String name) {
            String h = Integer.toHexString(name.hashCode());
            return ("0".repeat(64) + h).substring(h.length());
        }

        private void show(Exchange ex) throws IOException {
            JsonObject req = ex.json();
            String name = req == null ? "" : req.getString("model", req.getString("name", ""));
            if (name.isEmpty()) {
                json(ex, 400, "{\"error\":\"model is required\"}");
                return;
            }
            if (!serves(name)) {
                json(ex, 404, "{\"error\":" + str("model '" + name + "' not found") + "}");
                return;
            }
            json(ex, 200, "{\"modelfile\":" + str("# Modelfile generated by \"ollama show\"\nFROM " + withTag(name) + "\n")
                    + ",\"parameters\":" + str("stop                           \"<|eot_id|>\"")
                    + ",\"template\":" + str("{{ .Prompt }}")
                    + ",\"details\":" + details()
                    + ",\"model_info\":{\"general.architecture\":\"llama\",\"general.parameter_count\":3212749888,"
                    + "\"llama.context_length\":131072,\"llama.embedding_length\":3072}"
                    + ",\"capabilities\":[\"completion\"]"
                    + ",\"modified_at\":\"2025-01-01T00:00:00.000000000Z\"}");
        }

        /**
         * Ollama's {@code /api/embed}: {@code input} a string or an array of strings; each vector is 4 numbers made
         * from its input's text (the same text, the same vector), {@code prompt_eval_count} the inputs' words.
         */
        private void embed(Exchange ex) throws IOException {
            JsonObject req = ex.json();
            String model = req == null ? "" : req.getString("model", "");
            if (model.isEmpty()) {
                json(ex, 400, "{\"error\":\"model is required\"}");
                return;
            }
            if (!serves(model)) {
                json(ex, 404, "{\"error\":" + str("model \"" + model + "\" not found, try pulling it first") + "}");
                return;
            }
            List<String> inputs = new ArrayList<>();
            if (req.get("input") instanceof JsonString one) {
                inputs.add(one.getString());
            } else if (req.get("input") instanceof JsonArray many) {
                many.getValuesAs(JsonString.class).forEach(v -> inputs.add(v.getString()));
            }
            StringBuilder sb = new StringBuilder("{\"model\":").append(str(model)).append(",\"embeddings\":[");
            int words = 0;
            for (int i = 0; i < inputs.size(); i++) {
                String text = inputs.get(i);
                words += text.isBlank() ? 0 : text.strip().split("\\s+").length;
                int h = text.hashCode();
                sb.append(i > 0 ? ",[" : "[").append((h & 0xff) / 255.0).append(',').append(((h >> 8) & 0xff) / 255.0)
                        .append(',').append(((h >> 16) & 0xff) / 255.0).append(',').append(text.length() / 100.0).append(']');
            }
            sb.append("],\"total_duration\":1000,\"load_duration\":10,\"prompt_eval_count\":").append(words).append('}');
            json(ex, 200, sb.toString());
        }

        private void generate(Exchange ex, boolean chat) throws IOException, InterruptedException {
            JsonObject req = ex.json();
            if (req == null) {
                json(ex, 400, "{\"error\":\"invalid request body: not a JSON object\"}");
                return;
            }
            String model = req.getString("model", "");
            if (model.isEmpty()) {
                json(ex, 400, "{\"error\":\"model is required\"}");
                return;
            }
            if (!serves(model)) {
                json(ex, 404, "{\"error\":" + str("model \"" + model + "\" not found, try pulling it first") + "}");
                return;
            }
            Reply reply = script.apply(ex);
            long start = System.nanoTime();
            if (reply.failure == Failure.STALL_BEFORE_HEADERS) {
                waitForClient(null);
                return;
            }
            if (!reply.headerDelay.isZero() && waitForClient(reply.headerDelay)) {
                return;
            }
            if (reply.failure == Failure.HTTP_ERROR) {
                json(ex, reply.status, "{\"error\":" + str(reply.message) + "}");
                return;
            }
            boolean stream = req.getBoolean("stream", true);
            List<String> tokens;
            int promptCount;
            if (chat) {
                JsonArray messages = req.get("messages") instanceof JsonArray a ? a : JsonValue.EMPTY_JSON_ARRAY;
                if (messages.isEmpty()) {
                    // Ollama loads the model and answers one record when there is nothing to say
                    String load = "{\"model\":" + str(model) + ",\"created_at\":" + str(Instant.now().toString())
                            + ",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"load\",\"done\":true}";
                    json(ex, 200, load);
                    return;
                }
                String last = "";
                promptCount = 0;
                for (JsonValue v : messages) {
                    JsonObject m = v.asJsonObject();
                    String content = m.getString("content", "");
                    promptCount += WordTokens.count(content);
                    if ("user".equals(m.getString("role", ""))) {
                        last = content;
                    }
                }
                tokens = reply.tokens != null ? reply.tokens : WordTokens.split(last);
            } else {
                String prompt = req.getString("prompt", "");
                promptCount = WordTokens.count(prompt) + WordTokens.count(req.getString("system", ""));
                tokens = reply.tokens != null ? reply.tokens : WordTokens.split(prompt);
            }
            if (reply.promptEvalCount != null) {
                promptCount = reply.promptEvalCount;
            }
            String doneReason = reply.doneReason;
            if (req.get("options") instanceof JsonObject opts && opts.get("num_predict") instanceof JsonNumber np
                    && np.intValue() >= 0 && np.intValue() < tokens.size()) {
                tokens = tokens.subList(0, np.intValue());
                doneReason = "length";
            }
            String field = chat ? "message" : "response";
            if (!stream) {
                generateWhole(ex, chat, model, tokens, reply, promptCount, doneReason, start);
                return;
            }
            head(200, "application/x-ndjson", -1);
            boolean flushEach = !reply.tokenDelay.isZero() || reply.gate != null || reply.failure != Failure.NONE;
            if (flushEach) {
                out.flush();
                ex.headersSent.complete(System.nanoTime());
            }
            long evalStart = System.nanoTime();
            int sent = 0;
            for (String token : tokens) {
                if (reply.failure != Failure.NONE && sent == reply.failAfter) {
                    break;
                }
                if (reply.gate != null) {
                    reply.gate.beforeToken(sent);
                }
                if (!reply.tokenDelay.isZero() && waitForClient(reply.tokenDelay)) {
                    return;
                }
                if (clientGone.isDone()) {
                    return;
                }
                chunk(tokenRecord(chat, model, token));
                ex.tokensSent = ++sent;
                if (flushEach) {
                    out.flush();
                }
            }
            switch (reply.failure) {
                case ERROR_RECORD -> {
                    chunk("{\"error\":" + str(reply.message) + "}\n");
                    lastChunk();
                    return;
                }
                case MALFORMED_LINE -> {
                    chunk("<html><body>502 Bad Gateway</body></html>\n");
                    lastChunk();
                    return;
                }
                case DROP -> {
                    out.flush();
                    ex.responseEnded.complete(System.nanoTime());
                    serverClosing = true;
                    // FIN after the bytes already sent, not close(): closing with unread input makes the kernel
                    // send a reset, which can discard tokens the client has not read yet (a flaky token count).
                    // The read loop closes the socket once the client has closed its side.
                    try {
                        socket.shutdownOutput();
                    } catch (IOException e) {
                        closeSocket();
                    }
                    return;
                }
                case STALL -> {
                    out.flush();
                    waitForClient(null);
                    return;
                }
                default -> {
                }
            }
            if (chat && !reply.calls.isEmpty()) {
                chunk("{\"model\":" + str(model) + ",\"created_at\":" + str(Instant.now().toString())
                        + ",\"message\":{\"role\":\"assistant\",\"content\":\"\"" + toolCalls(reply.calls) + "},\"done\":false}\n");
            }
            long now = System.nanoTime();
            StringBuilder fin = new StringBuilder(320);
            fin.append("{\"model\":").append(str(model)).append(",\"created_at\":").append(str(Instant.now().toString()));
            if (chat) {
                fin.append(",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":").append(str(doneReason))
                        .append(",\"done\":true");
            } else {
                fin.append(",\"response\":\"\",\"done\":true,\"done_reason\":").append(str(doneReason));
                context(fin, promptCount + sent);
            }
            metrics(fin, reply, promptCount, sent, now - start, now - evalStart);
            fin.append("}\n");
            chunk(fin.toString());
            lastChunk();
        }

        private void generateWhole(Exchange ex, boolean chat, String model, List<String> tokens, Reply reply,
                                   int promptCount, String doneReason, long start) throws IOException, InterruptedException {
            long evalStart = System.nanoTime();
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < tokens.size(); i++) {
                if (reply.gate != null) {
                    reply.gate.beforeToken(i);
                }
                if (!reply.tokenDelay.isZero() && waitForClient(reply.tokenDelay)) {
                    return;
                }
                text.append(tokens.get(i));
            }
            long now = System.nanoTime();
            StringBuilder sb = new StringBuilder(256 + text.length());
            sb.append("{\"model\":").append(str(model)).append(",\"created_at\":").append(str(Instant.now().toString()));
            if (chat) {
                sb.append(",\"message\":{\"role\":\"assistant\",\"content\":").append(str(text.toString()))
                        .append(reply.calls.isEmpty() ? "" : toolCalls(reply.calls)).append("},\"done_reason\":").append(str(doneReason)).append(",\"done\":true");
            } else {
                sb.append(",\"response\":").append(str(text.toString())).append(",\"done\":true,\"done_reason\":")
                        .append(str(doneReason));
                context(sb, promptCount + tokens.size());
            }
            metrics(sb, reply, promptCount, tokens.size(), now - start, now - evalStart);
            sb.append('}');
            json(ex, 200, sb.toString());
        }

        private static void context(StringBuilder sb, int n) {
            sb.append(",\"context\":[");
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(1000 + i);
            }
            sb.append(']');
        }

        private static void metrics(StringBuilder sb, Reply reply, int promptCount, int evalCount, long total, long eval) {
            long[] d = reply.durations != null ? reply.durations
                    : new long[]{total, 1_000_000L, Math.max(0, total - eval - 1_000_000L), eval};
            sb.append(",\"total_duration\":").append(d[0])
                    .append(",\"load_duration\":").append(d[1])
                    .append(",\"prompt_eval_count\":").append(promptCount)
                    .append(",\"prompt_eval_duration\":").append(d[2])
                    .append(",\"eval_count\":").append(evalCount)
                    .append(",\"eval_duration\":").append(d[3]);
        }

        private static String tokenRecord(boolean chat, String model, String token) {
            StringBuilder sb = new StringBuilder(112 + token.length());
            sb.append("{\"model\":").append(str(model)).append(",\"created_at\":").append(str(Instant.now().toString()));
            if (chat) {
                sb.append(",\"message\":{\"role\":\"assistant\",\"content\":").append(str(token)).append("},\"done\":false}\n");
            } else {
                sb.append(",\"response\":").append(str(token)).append(",\"done\":false}\n");
            }
            return sb.toString();
        }

        /**
         * Waits {@code delay} (null: until the client or the fake closes); true when the client is gone. A timed wait
         * parks, woken when the client goes, instead of timing out a future get, which would cost an exception per token.
         */
        private boolean waitForClient(Duration delay) throws InterruptedException {
            if (delay == null) {
                try {
                    clientGone.get();
                } catch (ExecutionException e) {
                    // gone either way
                }
                return true;
            }
            pacedWriter = Thread.currentThread();
            long deadline = System.nanoTime() + delay.toNanos();
            while (!clientGone.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            return true;
        }

        private void head(int status, String contentType, int length) throws IOException {
            StringBuilder sb = new StringBuilder(160);
            sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n")
                    .append("Content-Type: ").append(contentType).append("\r\n")
                    .append("Date: ").append(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
            if (length >= 0) {
                sb.append("Content-Length: ").append(length).append("\r\n");
            } else {
                sb.append("Transfer-Encoding: chunked\r\n");
            }
            sb.append("\r\n");
            out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
        }

        private void json(Exchange ex, int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            head(status, "application/json; charset=utf-8", bytes.length);
            if (!ex.method().equals("HEAD")) {
                out.write(bytes);
            }
        }

        private void plain(Exchange ex, int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            head(status, "text/plain; charset=utf-8", bytes.length);
            if (!ex.method().equals("HEAD")) {
                out.write(bytes);
            }
        }

        private void chunk(String data) throws IOException {
            byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
            out.write(Integer.toHexString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            out.write(CRLF);
            out.write(bytes);
            out.write(CRLF);
        }

        private void lastChunk() throws IOException {
            out.write(LAST_CHUNK);
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    private static JsonObject parseObject(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try (JsonReader r = READERS.createReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8)) {
            return r.readValue() instanceof JsonObject o ? o : null;
        } catch (JsonException e) {
            return null;
        }
    }

    /** A JSON string literal, escaped the way Go's encoding/json does (HTML characters too). */
    static String str(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029' -> sb.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

}
