package io.streamingllm.server;

import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;

import java.util.HashMap;
import java.util.Map;

/**
 * Sidecar entry point: configuration from {@code STREAMING_LLM_*} (and {@code --host H --port P}), the engine,
 * the server; SIGTERM shuts down in order (see {@link SidecarServer#shutdown}).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        SidecarConfig config;
        ModelEngine engine;
        try {
            config = SidecarConfig.fromEnv(withArgs(System.getenv(), args));
            engine = Engines.create(config);
        } catch (ConfigException | IllegalArgumentException | io.streamingllm.core.engine.EngineException e) {
            System.err.println("streaming-llm: " + e.getMessage());
            System.exit(2);
            return;
        }
        SidecarServer server = SidecarServer.start(config, engine);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("streaming-llm: shutting down (grace " + config.shutdownGrace().toSeconds() + " s)");
            server.shutdown(config.shutdownGrace());
            System.err.println("streaming-llm: stopped");
        }, "sidecar-shutdown"));
        // SIGTERM/SIGINT are the orderly way to stop: exit 0 after the shutdown hooks (ours, JFR's, …) ran,
        // instead of the JVM's default 143/130
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> System.exit(0));
        }
        System.err.println("streaming-llm: listening on " + server.baseUri() + " (bound to " + config.host() + ":"
                + server.port() + ")");
        EngineHealth health = server.probe();
        System.err.println("streaming-llm: engine " + engine.engineName() + " model " + engine.model() + ": "
                + (health.ready() ? "ready" : health.status().wireName() + " - " + health.message()));
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
