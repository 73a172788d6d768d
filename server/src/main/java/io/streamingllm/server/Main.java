package io.streamingllm.server;

import io.helidon.common.socket.SocketOptions;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.websocket.WsRouting;
import io.streamingllm.core.DirectoryLockException;
import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.Limits;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.pool.UpstreamPool;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.store.Store;
import io.streamingllm.server.agent.AgentRoutes;
import io.streamingllm.server.chat.ConversationRoutes;
import io.streamingllm.server.chat.EventRoutes;
import io.streamingllm.server.chat.WsChat;
import io.streamingllm.server.edge.Auth;
import io.streamingllm.server.edge.Cors;
import io.streamingllm.server.edge.ErrorBodies;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.NoTrailingSlash;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.health.HealthRoutes;
import io.streamingllm.server.limits.ClientConnections;
import io.streamingllm.server.limits.ConnectionCap;
import io.streamingllm.server.limits.TurnAdmission;
import io.streamingllm.server.limits.TurnAdmissionFilter;
import io.streamingllm.server.limits.WebSockets;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.MetricsRoutes;
import io.streamingllm.server.ollama.OllamaApi;
import io.streamingllm.server.ollama.OllamaModels;
import io.streamingllm.server.openai.OpenAiChat;
import io.streamingllm.server.openai.OpenAiModels;
import io.streamingllm.server.playground.PlaygroundRoutes;
import io.streamingllm.server.search.SearchRoutes;
import io.streamingllm.server.stream.ChatRelay;
import io.streamingllm.server.stream.StreamSettings;
import sun.misc.Signal;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Sidecar entry point: configuration from {@code STREAMING_LLM_*} (and {@code --host H --port P}), the engine,
 * the services, and every path the sidecar serves ({@link #routing}); SIGTERM shuts down in order (see
 * {@link SidecarServer#shutdown}).
 */
public final class Main {
    /** The liveness probe: answered without a token. */
    static final String HEALTHZ = "/healthz";
    /** The WebSocket chat; its upgrade may carry the token as {@code ?token=}. */
    static final String WS_CHAT = "/ws/chat";
    /** The paths whose POST starts a turn: they count against STREAMING_LLM_MAX_TURNS_PER_CLIENT. */
    static final Set<String> TURN_PATHS = Set.of("/api/chat", "/api/generate", "/v1/chat/completions",
            "/v1/completions");

    private Main() {
    }

    public static void main(String[] args) {
        StartupFailure.quietHelidonStartup();
        SidecarConfig config;
        ModelEngine engine;
        SidecarServer server;
        try {
            config = SidecarConfig.fromEnv(withArgs(System.getenv(), args));
            engine = Engines.create(config);
            // a data directory another sidecar owns, a directory that cannot be written, a port in use: nothing
            // was touched, one line says why
            server = SidecarServer.start(config, engine);
        } catch (ConfigException | IllegalArgumentException | EngineException | DirectoryLockException
                 | StartupFailure e) {
            System.err.println("streaming-llm: " + e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            System.err.println("streaming-llm: cannot start: " + StartupFailure.oneLine(e));
            System.exit(2);
            return;
        }
        StartupFailure.helidonStarted();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("streaming-llm: shutting down (grace " + config.shutdownGrace().toSeconds() + " s)");
            server.shutdown(config.shutdownGrace());
            System.err.println("streaming-llm: stopped");
        }, "sidecar-shutdown"));
        // SIGTERM/SIGINT are the orderly way to stop: exit 0 after the shutdown hooks (ours, JFR's, …) ran,
        // instead of the JVM's default 143/130
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> System.exit(0));
        }
        System.err.println("streaming-llm: listening on " + server.baseUri() + " (bound to " + config.host() + ":"
                + server.port() + ")");
        EngineHealth health = server.probe();
        System.err.println("streaming-llm: engine " + engine.engineName() + " model " + engine.model() + ": "
                + (health.ready() ? "ready" : health.status().wireName() + " - " + health.message()));
    }

    /** The core services over the configured store (files, or PostgreSQL), and the edge filters. */
    static Services services(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        Store store = Stores.open(config);
        try {
            return services(config, engine, settings, store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static Services services(SidecarConfig config, ModelEngine engine, StreamSettings settings, Store store) {
        EventStore log = store.events();
        RecallIndex index = new RecallIndex(config.indexDir());
        // a missing or stale index is brought level with the log in the background while the sidecar serves
        index.catchUp(log);
        ChatService chat;
        try {
            chat = new ChatService(config, engine, store, index);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        EngineGate gate = new EngineGate(engine, Duration.ofSeconds(2));
        Auth auth = new Auth(config.apiToken(), HEALTHZ, WS_CHAT, PlaygroundRoutes::isPageFile);
        Cors cors = new Cors(config.corsOrigins());
        Metrics metrics = new Metrics();
        log.onFsync(metrics::logDurable);
        Limits limits = config.limits();
        // token frames are small writes: with Nagle's algorithm a frame waits for the ACK of the one before,
        // which a client may delay by up to 40 ms (a whole turn's `done` arrived ~40 ms late)
        ClientConnections connections = new ClientConnections(SocketOptions.builder().tcpNoDelay(true).build(),
                limits.readTimeout(), limits.maxConnections());
        TurnAdmission admission = new TurnAdmission(limits.maxTurnsPerClient());
        WebSockets webSockets = new WebSockets(limits.maxWebSockets(), limits.maxTurnsPerSocket(), admission,
                connections);
        return new Services(engine, store.agents(), log, index, chat, gate, metrics, settings, auth, cors,
                new PlaygroundRoutes(config), connections, admission, webSockets, store);
    }

    /**
     * Every path the sidecar serves. CORS comes first because browsers send preflights without credentials; an
     * unmatched path or method is JSON like every other error.
     */
    static void routing(HttpRouting.Builder routing, WsRouting.Builder webSockets, Services s) {
        Optional<UpstreamPool> pool = s.engine() instanceof UpstreamPool p ? Optional.of(p) : Optional.empty();
        Supplier<Optional<OllamaEngine>> upstream = () -> {
            ModelEngine engine = pool.map(UpstreamPool::firstUp).orElse(s.engine());
            return engine instanceof OllamaEngine ollama ? Optional.of(ollama) : Optional.empty();
        };
        ChatRelay relay = new ChatRelay(s.chat(), s.gate(), s.metrics(), s.settings());
        routing.addFilter(new ConnectionCap(s.connections(), HEALTHZ))
                .addFilter(s.cors())
                .addFilter(s.auth())
                .addFilter(new NoTrailingSlash())
                .addFilter(new TurnAdmissionFilter(s.admission(), Main::startsTurn))
                .register(HEALTHZ, HealthRoutes.liveness())
                .register("/readyz", HealthRoutes.readiness(s.gate(), s.engine(), s.log(), pool))
                .register("/agents", new AgentRoutes(s.agents()))
                .register("/", new SearchRoutes(s.index(), s.log()))
                .register("/conversations", new ConversationRoutes(s.chat(), s.log(), s.gate(), s.metrics(),
                        s.settings()))
                .register("/events", new EventRoutes(s.log()))
                .register("/api", new OllamaApi(relay, s.engine()), new OllamaModels(s.engine(), upstream))
                .register(ErrorBodies.OPENAI_PREFIX, new OpenAiChat(relay, s.engine()), new OpenAiModels(s.engine()))
                .register("/metrics", new MetricsRoutes(s.metrics(), pool))
                .get("/", s.playground()::index)
                .register(PlaygroundRoutes.MOUNT, s.playground())
                .get(WS_CHAT, WsChat::refusePlainHttp)
                .any(Errors::notFound);
        Errors.register(routing);
        webSockets.endpoint(WS_CHAT, () -> new WsChat(s.chat(), s.gate(), s.metrics(), s.auth(), s.cors(), s.settings(),
                s.webSockets()));
    }

    /** POST /conversations/{id}/messages and the API routes that run a turn. */
    static boolean startsTurn(String path) {
        return TURN_PATHS.contains(path) || (path.startsWith("/conversations/") && path.endsWith("/messages"));
    }

    /** {@code --host H --port P} override the environment (the run script passes them). */
    static Map<String, String> withArgs(Map<String, String> env, String[] args) {
        Map<String, String> merged = new HashMap<>(env);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String key = switch (a) {
                case "--host" -> SidecarConfig.HOST;
                case "--port" -> SidecarConfig.PORT;
                default -> throw new IllegalArgumentException("unknown argument " + a + " (usage: [--host H] [--port P])");
            };
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            merged.put(key, args[++i]);
        }
        return merged;
    }
}
