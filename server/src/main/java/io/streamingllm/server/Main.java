package io.streamingllm.server;

import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.websocket.WsRouting;
import io.streamingllm.core.DirectoryLockException;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.summary.SummaryStore;
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
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.MetricsRoutes;
import io.streamingllm.server.ollama.OllamaApi;
import io.streamingllm.server.ollama.OllamaModels;
import io.streamingllm.server.openai.OpenAiChat;
import io.streamingllm.server.openai.OpenAiModels;
import io.streamingllm.server.playground.PlaygroundRoutes;
import io.streamingllm.server.stream.ChatRelay;
import io.streamingllm.server.stream.StreamSettings;
import sun.misc.Signal;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

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

    private Main() {
    }

    public static void main(String[] args) {
        SidecarConfig config;
        ModelEngine engine;
        try {
            config = SidecarConfig.fromEnv(withArgs(System.getenv(), args));
            engine = Engines.create(config);
        } catch (ConfigException | IllegalArgumentException | EngineException e) {
            System.err.println("streaming-llm: " + e.getMessage());
            System.exit(2);
            return;
        }
        SidecarServer server;
        try {
            server = SidecarServer.start(config, engine);
        } catch (DirectoryLockException e) {
            // another sidecar owns the data, or a directory cannot be written: nothing was touched
            System.err.println("streaming-llm: " + e.getMessage());
            System.exit(2);
            return;
        }
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

    /** The core services over the configured directories, and the edge filters. */
    static Services services(SidecarConfig config, ModelEngine engine, StreamSettings settings) {
        AgentStore agents = new AgentStore(config.agentsDir());
        EventLog log = new EventLog(config.logDir(), EventLog.DEFAULT_MAX_OPEN_FILES, config.logRetry());
        ChatService chat = new ChatService(config, engine, agents, log, new SummaryStore(config.summaryDir()));
        EngineGate gate = new EngineGate(engine, Duration.ofSeconds(2));
        Auth auth = new Auth(config.apiToken(), HEALTHZ, WS_CHAT, PlaygroundRoutes::isPageFile);
        Cors cors = new Cors(config.corsOrigins());
        Metrics metrics = new Metrics();
        log.onFsync(metrics::logDurable);
        return new Services(engine, agents, log, chat, gate, metrics, settings, auth, cors,
                new PlaygroundRoutes(config));
    }

    /**
     * Every path the sidecar serves. CORS comes first because browsers send preflights without credentials; an
     * unmatched path or method is JSON like every other error.
     */
    static void routing(HttpRouting.Builder routing, WsRouting.Builder webSockets, Services s) {
        Optional<OllamaEngine> upstream = s.engine() instanceof OllamaEngine ollama ? Optional.of(ollama)
                : Optional.empty();
        ChatRelay relay = new ChatRelay(s.chat(), s.gate(), s.metrics(), s.settings());
        routing.addFilter(s.cors())
                .addFilter(s.auth())
                .addFilter(new NoTrailingSlash())
                .register(HEALTHZ, HealthRoutes.liveness())
                .register("/readyz", HealthRoutes.readiness(s.gate(), s.engine(), s.log()))
                .register("/agents", new AgentRoutes(s.agents()))
                .register("/conversations", new ConversationRoutes(s.chat(), s.log(), s.gate(), s.metrics(),
                        s.settings()))
                .register("/events", new EventRoutes(s.log()))
                .register("/api", new OllamaApi(relay, s.engine()), new OllamaModels(s.engine(), upstream))
                .register(ErrorBodies.OPENAI_PREFIX, new OpenAiChat(relay, s.engine()), new OpenAiModels(s.engine()))
                .register("/metrics", new MetricsRoutes(s.metrics()))
                .get("/", s.playground()::index)
                .register(PlaygroundRoutes.MOUNT, s.playground())
                .get(WS_CHAT, WsChat::refusePlainHttp)
                .any(Errors::notFound);
        Errors.register(routing);
        webSockets.endpoint(WS_CHAT, () -> new WsChat(s.chat(), s.gate(), s.metrics(), s.auth(), s.settings()));
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
