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

import static io.streamingllm.core.testing.FakeOllama.str;

/**
 * A fake OpenAI-compatible <em>server</em> (what llama-server, vLLM and OpenAI's API answer) for tests and
 * benchmarks: a real HTTP/1.1 server on a loopback ephemeral port speaking the documented wire format under
 * {@code /v1}:
 * <ul>
 * <li>{@code POST /v1/chat/completions}: with {@code "stream": true}, server-sent events (chunked): a first
 * {@code chat.completion.chunk} with {@code delta.role}, one chunk per content delta, a chunk with
 * {@code finish_reason} ({@code stop}, or {@code length} when {@code max_tokens}/{@code max_completion_tokens} cut the
 * answer), then, when {@code stream_options.include_usage} is true, a chunk with empty {@code choices} and the
 * {@code usage} (other chunks then carry {@code "usage": null}), then {@code data: [DONE]}. Without {@code stream}, one
 * {@code chat.completion} object. {@code stop} strings cut the answer where they appear.</li>
 * <li>{@code GET /v1/models}, {@code GET /v1/models/{id}}: the models given at start or with {@link #models}.</li>
 * <li>{@code POST /v1/embeddings}: one deterministic vector per input.</li>
 * <li>Errors in OpenAI's shape {@code {"error":{"message","type","param","code"}}}: an unknown model is 404
 * {@code model_not_found}, a wrong or missing key (when {@link #apiKey} is set) is 401 {@code invalid_api_key}.</li>
 * </ul>
 *
 * <p>What chat completions answer is scripted with {@link Reply} (default {@link Reply#echo()}): tokens, per-token
 * delay, slow headers, reported prompt tokens, a per-token gate, and failures: an HTTP error of any status with
 * OpenAI's error body, 429 with {@code Retry-After}, a context-length 400 as vLLM or llama-server word it, an
 * {@code {"error":…}} event mid-stream, a dropped connection, a malformed event, a stall (after headers or before).
 *
 * <p>Every request is recorded as an {@link Exchange} that also observes the client:
 * {@link Exchange#clientClosed()} completes with the {@link System#nanoTime()} at which the fake saw the client close
 * the connection before the response ended. One virtual thread reads each connection, another writes its responses.
 *
 * <pre>{@code
 * try (FakeOpenAi openai = FakeOpenAi.start("stories260K")) {
 *     openai.reply(Reply.tokens("Hello", " world").tokenDelay(Duration.ofMillis(5)));
 *     ... point the client at openai.baseUri() (http://127.0.0.1:PORT/v1) ...
 *     FakeOpenAi.Exchange chat = openai.awaitExchange("/v1/chat/completions", 0, Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public final class FakeOpenAi implements AutoCloseable {
    public static final String CHAT = "/v1/chat/completions";
    public static final String MODELS = "/v1/models";
    public static final String EMBEDDINGS = "/v1/embeddings";
    /** Dimensions of the fake's embeddings. */
    public static final int EMBEDDING_DIMENSIONS = 8;
    /** The {@code created} of chunks and models: a fixed time, so recorded answers compare equal. */
    public static final long CREATED = 1_735_689_600L;

    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;

    private final ServerSocket server;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final List<Exchange> exchanges = new ArrayList<>();
    private final AtomicLong requestCount = new AtomicLong();
    private final AtomicLong completionIds = new AtomicLong();
    private volatile List<String> models;
    private volatile Function<Exchange, Reply> script = ex -> Reply.echo();
    private volatile String apiKey;
    private volatile boolean recording = true;
    private volatile boolean closed;

    private FakeOpenAi(List<String> models) throws IOException {
        this.models = List.copyOf(models);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        Thread.ofVirtual().name("fake-openai-accept").start(this::acceptLoop);
    }

    /** Starts a fake that lists and serves {@code models} (ids as the server names them, e.g. {@code Qwen/Qwen2.5-7B}). */
    public static FakeOpenAi start(String... models) {
        try {
            return new FakeOpenAi(Arrays.asList(models));
        } catch (IOException e) {
            throw new IllegalStateException("cannot bind a loopback port for the fake OpenAI server", e);
        }
    }

    /** {@code http://127.0.0.1:PORT/v1}, the value for {@code STREAMING_LLM_OPENAI_URL} and clients' base URL. */
    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1");
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Replaces the models the fake lists and serves; others answer 404. */
    public FakeOpenAi models(String... ids) {
        this.models = List.of(ids);
        return this;
    }

    /** Requires {@code Authorization: Bearer key} on every {@code /v1} route (null: no key needed). */
    public FakeOpenAi apiKey(String key) {
        this.apiKey = key;
        return this;
    }

    /** Every later chat completion answers with {@code reply}. */
    public FakeOpenAi reply(Reply reply) {
        Objects.requireNonNull(reply);
        this.script = ex -> reply;
        return this;
    }

    /** Chooses the reply per request (e.g. by its messages or by how many came before). */
    public FakeOpenAi reply(Function<Exchange, Reply> script) {
        this.script = Objects.requireNonNull(script);
        return this;
    }

    /** Turns request recording off (benchmarks: millions of requests) or back on. */
    public FakeOpenAi recording(boolean on) {
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
                List<Exchange> matching = exchanges.stream().filter(e -> e.path().equals(path)).toList();
                if (matching.size() > index) {
                    return matching.get(index);
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
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                socket.setTcpNoDelay(true);
                Connection c = new Connection(socket);
                connections.add(c);
                Thread.ofVirtual().name("fake-openai-conn").start(c::readLoop);
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

    /** OpenAI's error body. */
    public static String errorBody(String message, String type, String param, String code) {
        return "{\"error\":{\"message\":" + str(message) + ",\"type\":" + str(type)
                + ",\"param\":" + (param == null ? "null" : str(param))
                + ",\"code\":" + (code == null ? "null" : str(code)) + "}}";
    }

    // ------------------------------------------------------------------------------------------------
    // Scripting

    /** Blocks before the fake writes token {@code index} (0-based); lets a test pace the stream. */
    @FunctionalInterface
    public interface TokenGate {
        void beforeToken(int index) throws InterruptedException;
    }

    /** What happens instead of (or after {@code afterTokens} of) a normal answer. */
    public enum Failure {
        /** Stream to the end. */
        NONE,
        /** Answer {@code status} with an error body (and the headers given) instead of streaming. */
        HTTP_ERROR,
        /** Stream some tokens, then a {@code data: {"error":…}} event, then end the response (status stays 200). */
        ERROR_EVENT,
        /** Close the socket abruptly (no finish chunk, no {@code [DONE]}, no last chunk). */
        DROP,
        /** Stream some tokens, then a line that is not an event, then end. */
        MALFORMED_EVENT,
        /** Send nothing more and keep the connection open until the client closes it. */
        STALL,
        /** Send no status line at all until the client closes the connection. */
        STALL_BEFORE_HEADERS
    }

    /** How the fake answers a chat completion. Immutable: each method returns a changed copy. */
    /** A tool call a reply makes; {@code arguments} is sent as is (so it may be broken JSON). */
    public record Call(String id, String name, String arguments) {
    }

    public static final class Reply {
        private List<String> tokens;          // null: echo the last user message
        private Duration tokenDelay = Duration.ZERO;
        private Duration headerDelay = Duration.ZERO;
        private Integer promptTokens;
        private String finishReason = "stop";
        private boolean done = true;
        private boolean usage = true;
        private boolean garbageAfterFinish;
        private TokenGate gate;
        private Failure failure = Failure.NONE;
        private int failAfter;
        private int status = 200;
        private String body = "";
        private Map<String, String> headers = Map.of();
        private List<Call> calls = List.of();

        private Reply() {
        }

        private Reply copy() {
            Reply r = new Reply();
            r.tokens = tokens;
            r.tokenDelay = tokenDelay;
            r.headerDelay = headerDelay;
            r.promptTokens = promptTokens;
            r.finishReason = finishReason;
            r.done = done;
            r.usage = usage;
            r.garbageAfterFinish = garbageAfterFinish;
            r.gate = gate;
            r.failure = failure;
            r.failAfter = failAfter;
            r.status = status;
            r.body = body;
            r.headers = headers;
            r.calls = calls;
            return r;
        }

        /**
         * After the tokens, these tool calls, streamed as OpenAI documents them: a first {@code delta.tool_calls}
         * fragment with index, id, type and function name (arguments ""), then the arguments in three pieces;
         * finish reason {@code tool_calls}.
         */
        public Reply toolCalls(Call... calls) {
            Reply r = copy();
            r.calls = List.of(calls);
            r.finishReason = "tool_calls";
            return r;
        }

        /** Echoes the last user message word by word. */
        public static Reply echo() {
            return new Reply();
        }

        /** Answers with exactly these deltas, one chunk each. */
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

        /** The {@code usage.prompt_tokens} reported (default: word tokens of all messages). */
        public Reply promptTokens(int count) {
            Reply r = copy();
            r.promptTokens = count;
            return r;
        }

        /** The {@code finish_reason} when {@code max_tokens} and stop strings did not cut the answer. */
        public Reply finishReason(String reason) {
            Reply r = copy();
            r.finishReason = Objects.requireNonNull(reason);
            return r;
        }

        /** Ends the stream after the last chunk without {@code data: [DONE]} (some servers do). */
        public Reply withoutDone() {
            Reply r = copy();
            r.done = false;
            return r;
        }

        /** Sends no usage chunk even when {@code stream_options.include_usage} asks for one (older servers). */
        public Reply withoutUsage() {
            Reply r = copy();
            r.usage = false;
            return r;
        }

        /** After the finish chunk, sends an event that is not JSON and ends (no usage, no {@code [DONE]}). */
        public Reply garbageAfterFinish() {
            Reply r = copy();
            r.garbageAfterFinish = true;
            return r;
        }

        /** Called before each token is written; may block (e.g. until the test saw the previous one). */
        public Reply gate(TokenGate gate) {
            Reply r = copy();
            r.gate = gate;
            return r;
        }

        /** Answers {@code status} with OpenAI's error body. */
        public static Reply httpError(int status, String type, String code, String message) {
            return new Reply().fail(Failure.HTTP_ERROR, 0, status, errorBody(message, type, null, code), Map.of());
        }

        /** Answers {@code status} with exactly {@code body} (another server's error shape, or not JSON at all). */
        public static Reply rawError(int status, String body) {
            return new Reply().fail(Failure.HTTP_ERROR, 0, status, body, Map.of());
        }

        /** 429 with {@code Retry-After: seconds} (null: no header), as OpenAI and vLLM behind a gateway answer. */
        public static Reply rateLimited(Integer retryAfterSeconds) {
            return new Reply().fail(Failure.HTTP_ERROR, 0, 429,
                    errorBody("Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded"),
                    retryAfterSeconds == null ? Map.of() : Map.of("Retry-After", retryAfterSeconds.toString()));
        }

        /** vLLM's 400 for a prompt over the model's context. */
        public static Reply contextLengthVllm() {
            return new Reply().fail(Failure.HTTP_ERROR, 0, 400, errorBody("This model's maximum context length is 2048 tokens."
                    + " However, you requested 4000 tokens (3488 in the messages, 512 in the completion). Please reduce the"
                    + " length of the messages or completion.", "BadRequestError", null, "400"), Map.of());
        }

        /** llama-server's 400 for a prompt over its context. */
        public static Reply contextLengthLlamaServer() {
            return new Reply().fail(Failure.HTTP_ERROR, 0, 400, "{\"error\":{\"code\":400,\"message\":\"request (4476 tokens)"
                    + " exceeds the available context size (4096 tokens), try increasing it\",\"type\":\"exceed_context_size_error\","
                    + "\"n_prompt_tokens\":4476,\"n_ctx\":4096}}", Map.of());
        }

        /** OpenAI's 400 {@code context_length_exceeded}. */
        public static Reply contextLengthOpenAi() {
            return httpError(400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length"
                    + " is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.");
        }

        /** Streams {@code tokens} tokens, then a {@code data: {"error":…}} event, then ends. */
        public Reply errorAfter(int tokens, String message) {
            return fail(Failure.ERROR_EVENT, tokens, 200, errorBody(message, "server_error", null, null), Map.of());
        }

        /** Streams {@code tokens} tokens, then closes the connection without finishing. */
        public Reply dropAfter(int tokens) {
            return fail(Failure.DROP, tokens, 200, "", Map.of());
        }

        /** Streams {@code tokens} tokens, then a line that is not an event, then ends. */
        public Reply malformedAfter(int tokens) {
            return fail(Failure.MALFORMED_EVENT, tokens, 200, "", Map.of());
        }

        /** Streams {@code tokens} tokens (0: just the headers and the role chunk), then sends nothing until the client leaves. */
        public Reply stallAfter(int tokens) {
            return fail(Failure.STALL, tokens, 200, "", Map.of());
        }

        /** Accepts the request but never sends the status line; the client has to give up. */
        public Reply stallBeforeHeaders() {
            return fail(Failure.STALL_BEFORE_HEADERS, 0, 200, "", Map.of());
        }

        private Reply fail(Failure f, int after, int status, String body, Map<String, String> headers) {
            Reply r = copy();
            r.failure = f;
            r.failAfter = after;
            r.status = status;
            r.body = body;
            r.headers = headers;
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
         * Completes with the {@link System#nanoTime()} at which the fake saw the client close (or reset) the connection
         * before this request's response ended. Never completes when the response ended first.
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

        /** Content chunks written so far. */
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
    // HTTP/1.1 over a socket: one reader thread per connection, one writer thread per request.

    private final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final CompletableFuture<Long> clientGone = new CompletableFuture<>();
        private volatile Exchange current;
        private volatile boolean serverClosing;
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
                    writer = Thread.ofVirtual().name("fake-openai-respond").start(() -> respond(ex));
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

        private Exchange readRequest() throws IOException {
            String requestLine = readLine(true);
            while (requestLine != null && requestLine.isEmpty()) {
                requestLine = readLine(true);
            }
            if (requestLine == null) {
                return null;
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
            String key = apiKey;
            if (key != null && ex.path().startsWith("/v1/") && !("Bearer " + key).equals(ex.header("authorization"))) {
                String got = ex.header("authorization");
                String shown = got == null ? "none" : got.replaceFirst("^Bearer ", "");
                // OpenAI quotes (part of) the key it refused: a client must not pass that text on unredacted
                json(ex, 401, errorBody("Incorrect API key provided: " + shown + ". You can find your API key at"
                        + " https://platform.openai.com/account/api-keys.", "invalid_request_error", null, "invalid_api_key"),
                        Map.of());
                return;
            }
            String path = ex.path();
            if (ex.method().equals("GET") && path.equals(MODELS)) {
                json(ex, 200, modelList(), Map.of());
            } else if (ex.method().equals("GET") && path.startsWith(MODELS + "/")) {
                String id = path.substring(MODELS.length() + 1);
                if (models.contains(id)) {
                    json(ex, 200, model(id), Map.of());
                } else {
                    json(ex, 404, modelNotFound(id), Map.of());
                }
            } else if (ex.method().equals("POST") && path.equals(CHAT)) {
                chat(ex);
            } else if (ex.method().equals("POST") && path.equals(EMBEDDINGS)) {
                embeddings(ex);
            } else {
                json(ex, 404, "{\"detail\":\"Not Found\"}", Map.of()); // what vLLM's FastAPI answers
            }
        }

        private String modelList() {
            StringBuilder sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
            List<String> list = models;
            for (int i = 0; i < list.size(); i++) {
                sb.append(i > 0 ? "," : "").append(model(list.get(i)));
            }
            return sb.append("]}").toString();
        }

        private static String model(String id) {
            return "{\"id\":" + str(id) + ",\"object\":\"model\",\"created\":" + CREATED + ",\"owned_by\":\"fake-openai\"}";
        }

        private static String modelNotFound(String id) {
            return errorBody("The model `" + id + "` does not exist or you do not have access to it.",
                    "invalid_request_error", null, "model_not_found");
        }

        private void embeddings(Exchange ex) throws IOException {
            JsonObject req = ex.json();
            String model = req == null ? "" : req.getString("model", "");
            if (!models.contains(model)) {
                json(ex, 404, modelNotFound(model), Map.of());
                return;
            }
            List<String> inputs = new ArrayList<>();
            JsonValue input = req.get("input");
            if (input instanceof JsonString s) {
                inputs.add(s.getString());
            } else if (input instanceof JsonArray a && a.stream().allMatch(v -> v instanceof JsonString)) {
                a.forEach(v -> inputs.add(((JsonString) v).getString()));
            } else {
                json(ex, 400, errorBody("'input' must be a string or an array of strings", "invalid_request_error", "input", null),
                        Map.of());
                return;
            }
            StringBuilder sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
            int tokens = 0;
            for (int i = 0; i < inputs.size(); i++) {
                tokens += WordTokens.count(inputs.get(i));
                sb.append(i > 0 ? "," : "").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":[");
                float[] v = embedding(inputs.get(i));
                for (int j = 0; j < v.length; j++) {
                    sb.append(j > 0 ? "," : "").append(v[j]);
                }
                sb.append("]}");
            }
            sb.append("],\"model\":").append(str(model)).append(",\"usage\":{\"prompt_tokens\":").append(tokens)
                    .append(",\"total_tokens\":").append(tokens).append("}}");
            json(ex, 200, sb.toString(), Map.of());
        }

        private void chat(Exchange ex) throws IOException, InterruptedException {
            JsonObject req = ex.json();
            if (req == null) {
                json(ex, 400, errorBody("We could not parse the JSON body of your request.", "invalid_request_error", null, null),
                        Map.of());
                return;
            }
            String model = req.getString("model", "");
            if (!models.contains(model)) {
                json(ex, 404, modelNotFound(model), Map.of());
                return;
            }
            JsonArray messages = req.get("messages") instanceof JsonArray a ? a : JsonValue.EMPTY_JSON_ARRAY;
            if (messages.isEmpty()) {
                json(ex, 400, errorBody("[] is too short - 'messages'", "invalid_request_error", "messages", null), Map.of());
                return;
            }
            Reply reply = script.apply(ex);
            if (reply.failure == Failure.STALL_BEFORE_HEADERS) {
                waitForClient(null);
                return;
            }
            if (!reply.headerDelay.isZero() && waitForClient(reply.headerDelay)) {
                return;
            }
            if (reply.failure == Failure.HTTP_ERROR) {
                json(ex, reply.status, reply.body, reply.headers);
                return;
            }
            String last = "";
            int promptTokens = 0;
            for (JsonValue v : messages) {
                JsonObject m = v.asJsonObject();
                String content = m.get("content") instanceof JsonString s ? s.getString() : "";
                promptTokens += WordTokens.count(content);
                if ("user".equals(m.getString("role", ""))) {
                    last = content;
                }
            }
            if (reply.promptTokens != null) {
                promptTokens = reply.promptTokens;
            }
            List<String> tokens = reply.tokens != null ? reply.tokens : WordTokens.split(last);
            String finish = reply.finishReason;
            List<String> stops = stops(req);
            int cut = -1;
            for (int i = 0; i < tokens.size() && cut < 0; i++) {
                for (String s : stops) {
                    if (!s.isEmpty() && tokens.get(i).contains(s)) {
                        cut = i;
                        break;
                    }
                }
            }
            if (cut >= 0) {
                String partial = tokens.get(cut).substring(0, tokens.get(cut).indexOf(firstStop(tokens.get(cut), stops)));
                List<String> kept = new ArrayList<>(tokens.subList(0, cut));
                if (!partial.isEmpty()) {
                    kept.add(partial);
                }
                tokens = kept;
                finish = "stop";
            }
            Integer max = req.get("max_completion_tokens") instanceof JsonNumber n ? Integer.valueOf(n.intValue())
                    : req.get("max_tokens") instanceof JsonNumber n2 ? Integer.valueOf(n2.intValue()) : null;
            if (max != null && max >= 0 && max < tokens.size()) {
                tokens = tokens.subList(0, max);
                finish = "length";
            }
            String id = "chatcmpl-fake" + completionIds.incrementAndGet();
            if (!req.getBoolean("stream", false)) {
                whole(ex, id, model, tokens, reply, promptTokens, finish);
                return;
            }
            boolean usage = reply.usage && req.get("stream_options") instanceof JsonObject so
                    && so.getBoolean("include_usage", false);
            String usageField = usage ? ",\"usage\":null" : "";
            head(200, "text/event-stream; charset=utf-8", -1, Map.of());
            boolean flushEach = !reply.tokenDelay.isZero() || reply.gate != null || reply.failure != Failure.NONE;
            event(chunk(id, model, "{\"role\":\"assistant\",\"content\":\"\"}", null, usageField));
            if (flushEach) {
                out.flush();
                ex.headersSent.complete(System.nanoTime());
            }
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
                event(chunk(id, model, "{\"content\":" + str(token) + "}", null, usageField));
                ex.tokensSent = ++sent;
                if (flushEach) {
                    out.flush();
                }
            }
            switch (reply.failure) {
                case ERROR_EVENT -> {
                    event(reply.body);
                    lastChunk();
                    return;
                }
                case MALFORMED_EVENT -> {
                    chunkOut("data: <html><body>502 Bad Gateway</body></html>\n\n");
                    lastChunk();
                    return;
                }
                case DROP -> {
                    out.flush();
                    ex.responseEnded.complete(System.nanoTime());
                    serverClosing = true;
                    // FIN after the bytes already sent, not close(): a reset could discard tokens not read yet
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
            for (int i = 0; i < reply.calls.size(); i++) {
                Call c = reply.calls.get(i);
                event(chunk(id, model, "{\"tool_calls\":[{\"index\":" + i + ",\"id\":" + str(c.id())
                        + ",\"type\":\"function\",\"function\":{\"name\":" + str(c.name()) + ",\"arguments\":\"\"}}]}",
                        null, usageField));
                int third = (c.arguments().length() + 2) / 3;
                for (int from = 0; from < c.arguments().length(); from += third) {
                    String piece = c.arguments().substring(from, Math.min(c.arguments().length(), from + third));
                    event(chunk(id, model, "{\"tool_calls\":[{\"index\":" + i + ",\"function\":{\"arguments\":"
                            + str(piece) + "}}]}", null, usageField));
                }
            }
            event(chunk(id, model, "{}", finish, usageField));
            if (reply.garbageAfterFinish) {
                chunkOut("data: {\"truncated\n\n");
                lastChunk();
                return;
            }
            if (usage) {
                event("{\"id\":" + str(id) + ",\"object\":\"chat.completion.chunk\",\"created\":" + CREATED + ",\"model\":"
                        + str(model) + ",\"system_fingerprint\":\"fp_fake\",\"choices\":[],\"usage\":"
                        + usage(promptTokens, sent) + "}");
            }
            if (reply.done) {
                event("[DONE]");
            }
            lastChunk();
        }

        private void whole(Exchange ex, String id, String model, List<String> tokens, Reply reply, int promptTokens,
                           String finish) throws IOException, InterruptedException {
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
            json(ex, 200, "{\"id\":" + str(id) + ",\"object\":\"chat.completion\",\"created\":" + CREATED + ",\"model\":"
                    + str(model) + ",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                    + "\"assistant\",\"content\":" + str(text.toString()) + ",\"refusal\":null" + toolCalls(reply.calls)
                    + "},\"logprobs\":null,"
                    + "\"finish_reason\":" + str(finish) + "}],\"usage\":" + usage(promptTokens, tokens.size()) + "}", Map.of());
        }

        private static String toolCalls(List<Call> calls) {
            if (calls.isEmpty()) {
                return "";
            }
            StringBuilder out = new StringBuilder(",\"tool_calls\":[");
            for (Call c : calls) {
                out.append(out.charAt(out.length() - 1) == '[' ? "" : ",").append("{\"id\":").append(str(c.id()))
                        .append(",\"type\":\"function\",\"function\":{\"name\":").append(str(c.name()))
                        .append(",\"arguments\":").append(str(c.arguments())).append("}}");
            }
            return out.append(']').toString();
        }

        private static String chunk(String id, String model, String delta, String finish, String usageField) {
            return "{\"id\":" + str(id) + ",\"object\":\"chat.completion.chunk\",\"created\":" + CREATED + ",\"model\":"
                    + str(model) + ",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"delta\":" + delta
                    + ",\"logprobs\":null,\"finish_reason\":" + (finish == null ? "null" : str(finish)) + "}]" + usageField + "}";
        }

        private static String usage(int prompt, int completion) {
            return "{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
                    + (prompt + completion) + "}";
        }

        /**
         * Waits {@code delay} (null: until the client or the fake closes); true when the client is gone.
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

        private void head(int status, String contentType, int length, Map<String, String> extra) throws IOException {
            StringBuilder sb = new StringBuilder(160);
            sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n")
                    .append("Content-Type: ").append(contentType).append("\r\n");
            extra.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
            if (length >= 0) {
                sb.append("Content-Length: ").append(length).append("\r\n");
            } else {
                sb.append("Transfer-Encoding: chunked\r\n").append("Cache-Control: no-cache\r\n");
            }
            sb.append("\r\n");
            out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
        }

        private void json(Exchange ex, int status, String body, Map<String, String> extra) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            head(status, "application/json", bytes.length, extra);
            if (!ex.method().equals("HEAD")) {
                out.write(bytes);
            }
        }

        /** One server-sent event: {@code data: …} and the blank line that ends it. */
        private void event(String data) throws IOException {
            chunkOut("data: " + data + "\n\n");
        }

        private void chunkOut(String data) throws IOException {
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

    private static List<String> stops(JsonObject req) {
        JsonValue stop = req.get("stop");
        if (stop instanceof JsonString s) {
            return List.of(s.getString());
        }
        if (stop instanceof JsonArray a) {
            return a.stream().filter(v -> v instanceof JsonString).map(v -> ((JsonString) v).getString()).toList();
        }
        return List.of();
    }

    private static String firstStop(String token, List<String> stops) {
        String first = null;
        int at = Integer.MAX_VALUE;
        for (String s : stops) {
            int i = s.isEmpty() ? -1 : token.indexOf(s);
            if (i >= 0 && i < at) {
                at = i;
                first = s;
            }
        }
        return first;
    }

    /** A deterministic unit-free vector for {@code text}: equal texts, equal vectors. */
    public static float[] embedding(String text) {
        float[] v = new float[EMBEDDING_DIMENSIONS];
        int h = text.hashCode();
        for (int i = 0; i < v.length; i++) {
            h = h * 31 + i + 17;
            v[i] = (h % 1000) / 1000f;
        }
        return v;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 413 -> "Payload Too Large";
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
}
