package io.streamingllm.server;

import io.streamingllm.core.DirectoryLock;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.server.stream.StreamSettings;
import jakarta.json.Json;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sidecar on a free loopback port over a temp directory, with a JDK HTTP client pointed at it. */
final class TestSidecar implements AutoCloseable {
    /** Short heartbeat so vanished HTTP clients are noticed quickly in tests. */
    static final StreamSettings SETTINGS = new StreamSettings(4096, Duration.ofMillis(50), Duration.ofMillis(100));

    final Path root;
    final SidecarConfig config;
    final SidecarServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final URI base;

    private TestSidecar(Path root, SidecarConfig config, ModelEngine engine) {
        this.root = root;
        this.config = config;
        this.server = SidecarServer.start(config, engine, SETTINGS);
        this.base = server.baseUri();
    }

    static TestSidecar echo(Path root) {
        return echo(root, Map.of());
    }

    static TestSidecar echo(Path root, Map<String, String> env) {
        SidecarConfig config = config(root, "echo", env);
        return new TestSidecar(root, config, new EchoEngine(0));
    }

    static TestSidecar ollama(Path root, FakeOllama fake) {
        return ollama(root, fake, "llama3.2:latest", Map.of());
    }

    static TestSidecar ollama(Path root, FakeOllama fake, String model, Map<String, String> env) {
        Map<String, String> e = new HashMap<>(env);
        e.put(SidecarConfig.OLLAMA_URL, fake.baseUri().toString());
        SidecarConfig config = config(root, model, e);
        return new TestSidecar(root, config, new OllamaEngine(fake.baseUri(), model, Duration.ofSeconds(30)));
    }

    /** A sidecar over {@code engine}, configured as serving its model. */
    static TestSidecar withEngine(Path root, ModelEngine engine, Map<String, String> env) {
        return new TestSidecar(root, config(root, engine.model(), env), engine);
    }

    /** A sidecar whose engine is built as {@code Main} builds it, from {@code STREAMING_LLM_MODEL}. */
    static TestSidecar fromModel(Path root, String model, Map<String, String> env) {
        SidecarConfig config = config(root, model, env);
        return new TestSidecar(root, config, Engines.create(config));
    }

    static SidecarConfig config(Path root, String model, Map<String, String> env) {
        Map<String, String> e = new HashMap<>();
        e.put(SidecarConfig.MODEL, model);
        e.put(SidecarConfig.HOST, "127.0.0.1");
        e.put(SidecarConfig.PORT, "0");
        e.put(SidecarConfig.DATA_DIR, root.resolve("data").toString());
        e.put(SidecarConfig.AGENTS_DIR, root.resolve("agents").toString());
        e.put(SidecarConfig.SHUTDOWN_GRACE_S, "0");
        e.putAll(env);
        return SidecarConfig.fromEnv(e);
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> get(String path, String... headers) {
        return send(request(path, headers).GET());
    }

    HttpResponse<String> post(String path, String body, String... headers) {
        return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> put(String path, String body, String... headers) {
        return send(request(path, headers).PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> delete(String path, String... headers) {
        return send(request(path, headers).DELETE());
    }

    HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return b;
    }

    static JsonObject json(String text) {
        return Json.createReader(new StringReader(text)).readObject();
    }

    /**
     * Asserts every file under the test root lies in the data or agents directory, and in the data directory in
     * logs, summaries, archive, kv, index, or is its lock file.
     */
    void assertNothingOutsideDataDirs() throws IOException {
        Path data = config.dataDir();
        Path agents = config.agentsDir();
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> outside = files.filter(Files::isRegularFile)
                    .filter(p -> !p.toAbsolutePath().normalize().startsWith(data)
                            && !p.toAbsolutePath().normalize().startsWith(agents))
                    .toList();
            assertTrue(outside.isEmpty(), "files written outside the data directories: " + outside);
        }
        try (Stream<Path> files = Files.walk(data)) {
            List<Path> stray = files.filter(Files::isRegularFile)
                    .filter(p -> !p.startsWith(config.logDir()) && !p.startsWith(config.summaryDir())
                            && !p.startsWith(config.archiveDir()) && !p.startsWith(config.kvDir())
                            && !p.startsWith(config.indexDir())
                            && !p.equals(data.resolve(DirectoryLock.FILE_NAME)))
                    .toList();
            assertTrue(stray.isEmpty(), "files outside logs/summaries/archive/kv: " + stray);
        }
    }

    @Override
    public void close() {
        server.close();
        http.close();
    }
}
