package io.streamingllm.core.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sidecar's configuration, read from {@code STREAMING_LLM_*} environment variables.
 * The variable names are a compatibility contract (DESIGN.md); {@link #KEYS} lists every one the
 * code reads, with its default, and nothing else.
 */
public record SidecarConfig(
        ModelSpec model,
        boolean streamingEnabled,
        int startSize,
        int recentSize,
        int maxNewTokens,
        int echoDelayMs,
        SummaryMode summaryMode,
        int summarySize,
        List<URI> ollamaUrls,
        String host,
        int port,
        Path dataDir,
        Path logDir,
        Path summaryDir,
        Path agentsDir,
        Optional<String> apiToken,
        List<String> corsOrigins,
        boolean bootstrapDeps,
        Duration tokenTimeout,
        Duration shutdownGrace,
        int kvDiskMb,
        Duration logRetry,
        List<URI> openAiUrls,
        Secret openAiApiKey,
        Limits limits,
        Optional<DatabaseConfig> database,
        int recallSize,
        Path indexDir) {

    public enum SummaryMode { EXTRACTIVE, LLM }

    public static final String MODEL = "STREAMING_LLM_MODEL";
    public static final String ENABLE = "STREAMING_LLM_ENABLE";
    public static final String START_SIZE = "STREAMING_LLM_START_SIZE";
    public static final String RECENT_SIZE = "STREAMING_LLM_RECENT_SIZE";
    public static final String MAX_NEW_TOKENS = "STREAMING_LLM_MAX_NEW_TOKENS";
    public static final String ECHO_DELAY_MS = "STREAMING_LLM_ECHO_DELAY_MS";
    public static final String SUMMARY_MODE = "STREAMING_LLM_SUMMARY_MODE";
    public static final String SUMMARY_SIZE = "STREAMING_LLM_SUMMARY_SIZE";
    public static final String OLLAMA_URL = "STREAMING_LLM_OLLAMA_URL";
    public static final String HOST = "STREAMING_LLM_HOST";
    public static final String PORT = "STREAMING_LLM_PORT";
    public static final String DATA_DIR = "STREAMING_LLM_DATA_DIR";
    public static final String LOG_DIR = "STREAMING_LLM_LOG_DIR";
    public static final String SUMMARY_DIR = "STREAMING_LLM_SUMMARY_DIR";
    public static final String AGENTS_DIR = "STREAMING_LLM_AGENTS_DIR";
    public static final String API_TOKEN = "STREAMING_LLM_API_TOKEN";
    public static final String CORS_ORIGINS = "STREAMING_LLM_CORS_ORIGINS";
    public static final String BOOTSTRAP_DEPS = "STREAMING_LLM_BOOTSTRAP_DEPS";
    public static final String TOKEN_TIMEOUT_S = "STREAMING_LLM_TOKEN_TIMEOUT_S";
    public static final String SHUTDOWN_GRACE_S = "STREAMING_LLM_SHUTDOWN_GRACE_S";
    public static final String LOG_RETRY_S = "STREAMING_LLM_LOG_RETRY_S";
    public static final String JDK_DIRS = "STREAMING_LLM_JDK_DIRS";
    public static final String KV_DISK_MB = "STREAMING_LLM_KV_DISK_MB";
    public static final String OPENAI_URL = "STREAMING_LLM_OPENAI_URL";
    public static final String OPENAI_API_KEY = "STREAMING_LLM_OPENAI_API_KEY";
    public static final String MAX_CONNECTIONS = "STREAMING_LLM_MAX_CONNECTIONS";
    public static final String MAX_WEBSOCKETS = "STREAMING_LLM_MAX_WEBSOCKETS";
    public static final String MAX_TURNS_PER_SOCKET = "STREAMING_LLM_MAX_TURNS_PER_SOCKET";
    public static final String MAX_TURNS_PER_CLIENT = "STREAMING_LLM_MAX_TURNS_PER_CLIENT";
    public static final String READ_TIMEOUT_S = "STREAMING_LLM_READ_TIMEOUT_S";
    public static final String MAX_UPSTREAM_LINE_KB = "STREAMING_LLM_MAX_UPSTREAM_LINE_KB";
    public static final String DATABASE_URL = "STREAMING_LLM_DATABASE_URL";
    public static final String DATABASE_PASSWORD = "STREAMING_LLM_DATABASE_PASSWORD";
    public static final String RECALL_SIZE = "STREAMING_LLM_RECALL_SIZE";
    public static final String INDEX_DIR = "STREAMING_LLM_INDEX_DIR";

    /**
     * One configuration variable. {@code defaultValue} is what an unset (or empty) variable means;
     * an empty default means "derived" or "off", as {@code description} says.
     */
    public record Key(String name, String defaultValue, String description) {
    }

    /** Every variable the code (Java and {@code scripts/run-sidecar.sh}) reads, in documentation order. */
    public static final List<Key> KEYS = List.of(
            new Key(MODEL, "llama3.2:latest", "engine + model: gguf:/path/file.gguf | ollama-store:NAME[:TAG] | ollama:NAME[:TAG] | echo | NAME[:TAG] (Ollama)"),
            new Key(ENABLE, "1", "StreamingLLM context management on (1) or off (0: the whole history is sent)"),
            new Key(START_SIZE, "4", "attention-sink size in tokens (local KV sink; Ollama num_keep floor)"),
            new Key(RECENT_SIZE, "2048", "recent-window size in tokens"),
            new Key(MAX_NEW_TOKENS, "512", "default cap of new tokens per turn"),
            new Key(ECHO_DELAY_MS, "0", "per-token delay of the echo engine, for load tests"),
            new Key(SUMMARY_MODE, "extractive", "extractive, or llm (the model rewrites the summary after a turn)"),
            new Key(SUMMARY_SIZE, "", "summary budget in tokens; empty = a quarter of RECENT_SIZE"),
            new Key(RECALL_SIZE, "", "recall budget in tokens: evicted turns most relevant to the new message, found in the full-text index of the log, put back into the prompt; empty = a quarter of RECENT_SIZE; 0 = off"),
            new Key(OLLAMA_URL, "http://127.0.0.1:11434", "Ollama base URL; several, comma-separated, make a pool: each conversation sticks to one, load is bounded, a failing one is taken out"),
            new Key(HOST, "0.0.0.0", "bind address"),
            new Key(PORT, "8000", "listen port"),
            new Key(DATA_DIR, "./data", "root of the data layout (logs, summaries, archive)"),
            new Key(LOG_DIR, "", "JSONL event logs; empty = $STREAMING_LLM_DATA_DIR/logs"),
            new Key(SUMMARY_DIR, "", "markdown summaries; empty = $STREAMING_LLM_DATA_DIR/summaries"),
            new Key(INDEX_DIR, "", "full-text index of the logs (rebuilt from them when missing or behind); empty = $STREAMING_LLM_DATA_DIR/index"),
            new Key(AGENTS_DIR, ".agents", "markdown agents"),
            new Key(API_TOKEN, "", "when set, every route but /healthz needs Authorization: Bearer <token>"),
            new Key(CORS_ORIGINS, "", "allowed CORS origins, comma-separated, * for any; empty = pages on localhost and 127.0.0.1 (any port) only: other origins cannot write or open the WebSocket (403)"),
            new Key(BOOTSTRAP_DEPS, "1", "run script builds the jars when 1 (always when they are missing)"),
            new Key(TOKEN_TIMEOUT_S, "120", "seconds without a token from the engine before a turn fails"),
            new Key(SHUTDOWN_GRACE_S, "10", "seconds in-flight turns may finish after SIGTERM before they are cancelled"),
            new Key(KV_DISK_MB, "4096", "local engine: MiB of disk for conversations' saved KV caches in $STREAMING_LLM_DATA_DIR/kv (least recently used deleted first); 0 = not saved"),
            new Key(LOG_RETRY_S, "5", "seconds a log write that fails (disk full, I/O error) is retried before its turn fails; /readyz is 503 meanwhile"),
            new Key(JDK_DIRS, "/usr/lib/jvm", "run script: colon-separated directories searched for a JDK 22+ after JAVA_HOME and PATH"),
            new Key(OPENAI_URL, "http://127.0.0.1:8080/v1", "base URL (ending in /v1) of the OpenAI-compatible server for openai:NAME: llama-server :8080/v1, vLLM :8000/v1; several, comma-separated, make a pool like STREAMING_LLM_OLLAMA_URL"),
            new Key(OPENAI_API_KEY, "", "API key sent as a Bearer token to the OpenAI-compatible server; empty = none; never logged"),
            new Key(MAX_CONNECTIONS, "4096", "open client connections; beyond, 503 and the connection closed (never more than the descriptor limit allows)"),
            new Key(MAX_WEBSOCKETS, "2048", "open WebSockets; beyond, close 1013 (try again later)"),
            new Key(MAX_TURNS_PER_SOCKET, "8", "turns in flight on one WebSocket; beyond, an error frame"),
            new Key(MAX_TURNS_PER_CLIENT, "64", "turns in flight from one client address (HTTP and WebSocket); beyond, 429 with Retry-After or an error frame"),
            new Key(READ_TIMEOUT_S, "30", "seconds a connection has for a request's headers after it opened or after its last answer (also how long an idle keep-alive connection stays open) before it is closed, and of silence while reading a request's body before it is refused (408)"),
            new Key(MAX_UPSTREAM_LINE_KB, "4096", "KiB of one line of an upstream's streamed answer; a longer line fails the turn (memory stays bounded)"),
            new Key(DATABASE_URL, "", "PostgreSQL shared by several replicas (postgresql://user:pass@host:5432/db or jdbc:postgresql://host:5432/db): events, summaries and agents go there instead of the files; empty = files; never logged with its password"),
            new Key(DATABASE_PASSWORD, "", "the database password, when not in STREAMING_LLM_DATABASE_URL; never logged"));

    /** Variable name → default, in documentation order. */
    public static Map<String, String> defaults() {
        Map<String, String> m = new LinkedHashMap<>();
        KEYS.forEach(k -> m.put(k.name(), k.defaultValue()));
        return m;
    }

    /** Reads the process environment. */
    public static SidecarConfig fromEnvironment() {
        return fromEnv(System.getenv());
    }

    /**
     * Reads the given variables; unset and empty both mean the default, except {@code STREAMING_LLM_MODEL}:
     * set but empty is unusable (DESIGN) and stops start-up rather than silently picking a model.
     */
    public static SidecarConfig fromEnv(Map<String, String> env) {
        Reader r = new Reader(env);
        ModelSpec model = ModelSpec.parse(env.containsKey(MODEL) ? env.get(MODEL) : defaults().get(MODEL));
        int recent = r.intIn(RECENT_SIZE, 1, 1 << 24);
        String summarySizeRaw = r.rawOrNull(SUMMARY_SIZE);
        int summarySize = summarySizeRaw == null ? Math.max(1, recent / 4) : r.intIn(SUMMARY_SIZE, 1, 1 << 24);
        Path dataDir = r.path(DATA_DIR);
        String logRaw = r.rawOrNull(LOG_DIR);
        String sumRaw = r.rawOrNull(SUMMARY_DIR);
        String token = r.rawOrNull(API_TOKEN);
        String recallRaw = r.rawOrNull(RECALL_SIZE);
        String indexRaw = r.rawOrNull(INDEX_DIR);
        return new SidecarConfig(
                model,
                r.bool(ENABLE),
                r.intIn(START_SIZE, 0, 1 << 20),
                recent,
                r.intIn(MAX_NEW_TOKENS, 1, 1 << 20),
                r.intIn(ECHO_DELAY_MS, 0, 60_000),
                r.summaryMode(),
                summarySize,
                r.httpUris(OLLAMA_URL),
                r.host(),
                r.intIn(PORT, 0, 65535),
                dataDir,
                logRaw == null ? dataDir.resolve("logs") : r.path(LOG_DIR),
                sumRaw == null ? dataDir.resolve("summaries") : r.path(SUMMARY_DIR),
                r.path(AGENTS_DIR),
                Optional.ofNullable(token),
                r.origins(),
                r.bool(BOOTSTRAP_DEPS),
                Duration.ofSeconds(r.intIn(TOKEN_TIMEOUT_S, 1, 86_400)),
                Duration.ofSeconds(r.intIn(SHUTDOWN_GRACE_S, 0, 3_600)),
                r.intIn(KV_DISK_MB, 0, 1 << 30),
                Duration.ofSeconds(r.intIn(LOG_RETRY_S, 0, 3_600)),
                r.httpUris(OPENAI_URL),
                new Secret(r.raw(OPENAI_API_KEY)),
                new Limits(r.intIn(MAX_CONNECTIONS, 1, 1 << 20), r.intIn(MAX_WEBSOCKETS, 1, 1 << 20),
                        r.intIn(MAX_TURNS_PER_SOCKET, 1, 1 << 16), r.intIn(MAX_TURNS_PER_CLIENT, 1, 1 << 20),
                        Duration.ofSeconds(r.intIn(READ_TIMEOUT_S, 1, 3_600)),
                        r.intIn(MAX_UPSTREAM_LINE_KB, 1, 1 << 20)),
                DatabaseConfig.parse(env.get(DATABASE_URL), env.get(DATABASE_PASSWORD)),
                recallRaw == null ? Math.max(1, recent / 4) : r.intIn(RECALL_SIZE, 0, 1 << 24),
                indexRaw == null ? dataDir.resolve("index") : r.path(INDEX_DIR));
    }

    /** The first (with one URL, the only) Ollama upstream. */
    public URI ollamaUrl() {
        return ollamaUrls.getFirst();
    }

    /** The first (with one URL, the only) OpenAI-compatible upstream. */
    public URI openAiUrl() {
        return openAiUrls.getFirst();
    }

    /** Where the local engine saves conversations' KV caches. */
    public Path kvDir() {
        return dataDir.resolve("kv");
    }

    /** Whether evicted turns are recalled into prompts ({@code STREAMING_LLM_RECALL_SIZE} > 0, window on). */
    public boolean recallEnabled() {
        return streamingEnabled && recallSize > 0;
    }

    /** Where {@code DELETE /conversations/{id}} moves a conversation's files. */
    public Path archiveDir() {
        return dataDir.resolve("archive");
    }

    /** A copy with another model (tests and embedding apps). */
    public SidecarConfig withModel(ModelSpec spec) {
        return new SidecarConfig(spec, streamingEnabled, startSize, recentSize, maxNewTokens, echoDelayMs, summaryMode,
                summarySize, ollamaUrls, host, port, dataDir, logDir, summaryDir, agentsDir, apiToken, corsOrigins,
                bootstrapDeps, tokenTimeout, shutdownGrace, kvDiskMb, logRetry, openAiUrls, openAiApiKey, limits, database,
                recallSize, indexDir);
    }

    private record Reader(Map<String, String> env) {
        String rawOrNull(String key) {
            String v = env.get(key);
            return v == null || v.isBlank() ? null : v.trim();
        }

        String raw(String key) {
            String v = rawOrNull(key);
            return v != null ? v : defaults().get(key);
        }

        ConfigException bad(String key, String value, String expected) {
            return new ConfigException(key, "invalid " + key + "=" + ConfigException.show(value) + ": expected " + expected);
        }

        int intIn(String key, int min, int max) {
            String v = raw(key);
            try {
                int n = Integer.parseInt(v);
                if (n < min || n > max) {
                    throw bad(key, v, "an integer from " + min + " to " + max);
                }
                return n;
            } catch (NumberFormatException e) {
                throw bad(key, v, "an integer from " + min + " to " + max);
            }
        }

        boolean bool(String key) {
            String v = raw(key);
            return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                case "1", "true", "yes", "on" -> true;
                case "0", "false", "no", "off" -> false;
                default -> throw bad(key, v, "1 or 0");
            };
        }

        SummaryMode summaryMode() {
            String v = raw(SUMMARY_MODE);
            return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                case "extractive" -> SummaryMode.EXTRACTIVE;
                case "llm" -> SummaryMode.LLM;
                default -> throw bad(SUMMARY_MODE, v, "extractive or llm");
            };
        }

        /** A comma-separated list of http(s) URLs, each checked; the error names the variable and the bad entry. */
        List<URI> httpUris(String key) {
            String v = raw(key);
            List<URI> uris = new java.util.ArrayList<>();
            for (String part : v.split(",", -1)) {
                String one = part.trim();
                if (one.isEmpty()) {
                    throw bad(key, v, "comma-separated http(s) URLs without empty entries, such as " + defaults().get(key));
                }
                URI u;
                try {
                    u = httpUri(key, one);
                } catch (ConfigException e) {
                    if (!v.contains(",")) {
                        throw e;
                    }
                    throw bad(key, v, "comma-separated http(s) URLs such as " + defaults().get(key) + " ("
                            + ConfigException.show(one) + " is not one)");
                }
                if (uris.contains(u)) {
                    throw bad(key, v, "distinct URLs (" + u + " is listed twice)");
                }
                uris.add(u);
            }
            return List.copyOf(uris);
        }

        URI httpUri(String key, String v) {
            try {
                URI u = new URI(v);
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                        || u.getHost() == null) {
                    throw bad(key, v, "an http(s) URL such as " + defaults().get(key));
                }
                String s = u.toString();
                return URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
            } catch (java.net.URISyntaxException e) {
                throw bad(key, v, "an http(s) URL such as " + defaults().get(key));
            }
        }

        String host() {
            String v = raw(HOST);
            if (v.chars().anyMatch(c -> c <= ' ' || c == '/')) {
                throw bad(HOST, v, "a host name or IP address");
            }
            return v;
        }

        Path path(String key) {
            String v = raw(key);
            if (v.indexOf('\0') >= 0) {
                throw bad(key, v, "a directory path");
            }
            try {
                return Path.of(v).toAbsolutePath().normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw bad(key, v, "a directory path");
            }
        }

        /** Empty when unset: the local origins only. */
        List<String> origins() {
            String v = raw(CORS_ORIGINS);
            List<String> list = Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
            return list;
        }
    }
}
