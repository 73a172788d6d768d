package io.streamingllm.server;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.websocket.WsConfig;
import io.helidon.webserver.websocket.WsRouting;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.limits.ClientConnections;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.stream.StreamSettings;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.time.Duration;

/**
 * The sidecar running: {@link Main}'s services and routes on a Helidon web server, and their orderly stop. Start
 * it on port 0 in tests. Thread-safe.
 */
public final class SidecarServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SidecarServer.class.getName());
    /** The largest WebSocket frame read (and refused with an error frame when over the message limit). */
    static final int MAX_WS_FRAME_BYTES = 4 * RequestBody.MAX_BYTES;
    /** How long the stop waits for WebSockets' error and close frames to be written. */
    private static final Duration CLOSE_FRAMES_WAIT = Duration.ofSeconds(2);

    private final SidecarConfig config;
    private final DataLocks locks;
    private final Services services;
    private final WebServer server;
    private boolean stopped;

    private SidecarServer(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        this.config = config;
        this.locks = DataLocks.acquire(config); // first: a second instance stops before it touches anything
        try {
            this.services = Main.services(config, engine, settings);
        } catch (RuntimeException e) {
            locks.close();
            throw e;
        }
        HttpRouting.Builder routing = HttpRouting.builder();
        WsRouting.Builder webSockets = WsRouting.builder();
        Main.routing(routing, webSockets, services);
        this.server = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                .featuresDiscoverServices(false)
                .maxPayloadSize(RequestBody.MAX_BYTES)
                .connectionOptions(services.connections())
                // never accept a connection there is no descriptor for: a failed accept ends Helidon's listener
                .maxTcpConnections(ClientConnections.acceptLimit(config.limits().maxConnections()))
                .directHandlers(Errors.directHandlers())
                // frames up to a few times the message limit reach WsChat, which answers an error frame before
                // closing with 1009; Helidon closes on larger ones without reading them
                // origins are checked by WsChat as by the CORS filter (local origins on any port by default)
                .addProtocol(WsConfig.builder().name("websocket")
                        .maxFrameLength(MAX_WS_FRAME_BYTES).build())
                .routing(routing)
                .addRouting(webSockets)
                .build();
    }

    /** Builds the services and starts serving on {@code config.host():config.port()} (0 = any free port). */
    public static SidecarServer start(SidecarConfig config, ModelEngine engine) {
        return start(config, engine, StreamSettings.DEFAULTS);
    }

    public static SidecarServer start(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        SidecarServer s = new SidecarServer(config, engine, settings);
        try {
            s.server.start();
            if (!s.server.isRunning() || s.server.port() < 0) {
                // Helidon logs a port it cannot bind and carries on without a listener
                s.server.stop();
                throw StartupFailure.cannotListen(config.host(), config.port());
            }
        } catch (RuntimeException e) {
            s.releaseData();
            throw e;
        }
        return s;
    }

    /** Probes the engine once; start-up logs the result. */
    public EngineHealth probe() {
        return services.gate().probe();
    }

    public int port() {
        return server.port();
    }

    public URI baseUri() {
        String host = config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    public Metrics metrics() {
        return services.metrics();
    }

    public ChatService chat() {
        return services.chat();
    }

    /** WebSockets open now (for tests and metrics). */
    public int openWebSockets() {
        return services.webSockets().openCount();
    }

    /**
     * Orderly stop: new turns are refused, turns under way may finish for {@code grace} and are then cancelled
     * (their partial replies logged), the log is flushed and closed, the server stops.
     */
    public synchronized void shutdown(Duration grace) {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            services.chat().shutdown(grace);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "shutting down sessions failed: " + e.getMessage());
        }
        services.webSockets().goingAway(CLOSE_FRAMES_WAIT);
        releaseData();
        server.stop();
        services.connections().close();
        services.engine().close();
    }

    /** Closes the index (committing it) and the store (the log: queued appends committed), and lets the data directories go. */
    private void releaseData() {
        try {
            services.index().close();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "closing the search index failed: " + e.getMessage());
        }
        try {
            services.store().close();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "closing the store failed: " + e.getMessage());
        } finally {
            locks.close();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
