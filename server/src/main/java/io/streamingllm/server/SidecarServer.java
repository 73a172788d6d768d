package io.streamingllm.server;

import io.helidon.common.socket.SocketOptions;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.websocket.WsConfig;
import io.helidon.webserver.websocket.WsRouting;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.server.agent.AgentRoutes;
import io.streamingllm.server.chat.ConversationRoutes;
import io.streamingllm.server.chat.WsChat;
import io.streamingllm.server.edge.Auth;
import io.streamingllm.server.edge.Cors;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.health.HealthRoutes;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.MetricsRoutes;
import io.streamingllm.server.ollama.OllamaApi;
import io.streamingllm.server.stream.StreamSettings;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/** The sidecar: core services wired to a Helidon web server. Start it on port 0 in tests. */
public final class SidecarServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SidecarServer.class.getName());

    private final SidecarConfig config;
    private final ModelEngine engine;
    private final EventLog log;
    private final ChatService chat;
    private final EngineGate gate;
    private final Metrics metrics = new Metrics();
    private final WebServer server;
    private boolean stopped;

    private SidecarServer(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        this.config = config;
        this.engine = engine;
        AgentStore agents = new AgentStore(config.agentsDir());
        this.log = new EventLog(config.logDir());
        this.chat = new ChatService(config, engine, agents, log, new SummaryStore(config.summaryDir()));
        this.gate = new EngineGate(engine, Duration.ofSeconds(2));
        Auth auth = new Auth(config.apiToken());
        Cors cors = new Cors(config.corsOrigins());
        Optional<OllamaEngine> upstream = engine instanceof OllamaEngine ollama ? Optional.of(ollama) : Optional.empty();
        log.onFsync(metrics::logDurable);

        HttpRouting.Builder routing = HttpRouting.builder()
                .addFilter(cors)
                .addFilter(auth)
                .register(new HealthRoutes(gate, engine),
                        new AgentRoutes(agents),
                        new ConversationRoutes(chat, log, gate, metrics, settings),
                        new OllamaApi(chat, engine, gate, metrics, settings, upstream),
                        new MetricsRoutes(metrics))
                .get(Auth.WS_PATH, (req, res) -> Errors.send(res, new io.streamingllm.server.edge.ApiException(
                        426, "upgrade_required", "this is a WebSocket endpoint: connect with ws://")))
                .any(Errors.notFound());
        Errors.register(routing);

        this.server = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                .featuresDiscoverServices(false)
                .maxPayloadSize(RequestBody.MAX_BYTES)
                // token frames are small writes: with Nagle's algorithm a frame waits for the ACK of the one
                // before, which a client may delay by up to 40 ms (a whole turn's `done` arrived ~40 ms late)
                .connectionOptions(SocketOptions.builder().tcpNoDelay(true).build())
                .directHandlers(Errors.directHandlers())
                .addProtocol(WsConfig.builder().name("websocket").origins(cors.webSocketOrigins())
                        .maxFrameLength(RequestBody.MAX_BYTES).build())
                .routing(routing)
                .addRouting(WsRouting.builder().endpoint(Auth.WS_PATH,
                        () -> new WsChat(chat, gate, metrics, auth, settings)))
                .build();
    }

    /** Builds the services and starts serving on {@code config.host():config.port()} (0 = any free port). */
    public static SidecarServer start(SidecarConfig config, ModelEngine engine) {
        return start(config, engine, StreamSettings.DEFAULTS);
    }

    public static SidecarServer start(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        SidecarServer s = new SidecarServer(config, engine, settings);
        s.server.start();
        return s;
    }

    /** Probes the engine once; start-up logs the result. */
    public EngineHealth probe() {
        return gate.probe();
    }

    public int port() {
        return server.port();
    }

    public URI baseUri() {
        String host = config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    public Metrics metrics() {
        return metrics;
    }

    public ChatService chat() {
        return chat;
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
            chat.shutdown(grace);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "shutting down sessions failed: " + e.getMessage());
        }
        try {
            log.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the event log failed: " + e.getMessage());
        }
        server.stop();
        engine.close();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
