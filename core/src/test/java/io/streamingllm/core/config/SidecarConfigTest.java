package io.streamingllm.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SidecarConfigTest {
    @Test
    void defaultsMatchTheDesignTable() {
        SidecarConfig c = SidecarConfig.fromEnv(Map.of());
        assertEquals(new ModelSpec(ModelSpec.Kind.OLLAMA, "llama3.2:latest"), c.model());
        assertTrue(c.streamingEnabled());
        assertEquals(4, c.startSize());
        assertEquals(2048, c.recentSize());
        assertEquals(512, c.maxNewTokens());
        assertEquals(0, c.echoDelayMs());
        assertEquals(SidecarConfig.SummaryMode.EXTRACTIVE, c.summaryMode());
        assertEquals(512, c.summarySize(), "a quarter of RECENT_SIZE");
        assertEquals(URI.create("http://127.0.0.1:11434"), c.ollamaUrl());
        assertEquals("0.0.0.0", c.host());
        assertEquals(8000, c.port());
        Path data = Path.of("./data").toAbsolutePath().normalize();
        assertEquals(data, c.dataDir());
        assertEquals(data.resolve("logs"), c.logDir());
        assertEquals(data.resolve("summaries"), c.summaryDir());
        assertEquals(data.resolve("archive"), c.archiveDir());
        assertEquals(Path.of(".agents").toAbsolutePath().normalize(), c.agentsDir());
        assertEquals(Optional.empty(), c.apiToken());
        assertEquals(List.of(), c.corsOrigins(), "unset: local origins only");
        assertTrue(c.bootstrapDeps());
        assertEquals(Duration.ofSeconds(120), c.tokenTimeout());
        assertEquals(Duration.ofSeconds(10), c.shutdownGrace());
        assertEquals(Duration.ofSeconds(5), c.logRetry());
        assertEquals(Duration.ZERO, SidecarConfig.fromEnv(Map.of(SidecarConfig.LOG_RETRY_S, "0")).logRetry());
    }

    @Test
    void logAndSummaryDirsFollowDataDirUnlessSet(@TempDir Path tmp) {
        SidecarConfig c = SidecarConfig.fromEnv(Map.of(SidecarConfig.DATA_DIR, tmp.toString()));
        assertEquals(tmp.resolve("logs"), c.logDir());
        assertEquals(tmp.resolve("summaries"), c.summaryDir());
        SidecarConfig explicit = SidecarConfig.fromEnv(Map.of(SidecarConfig.DATA_DIR, tmp.toString(),
                SidecarConfig.LOG_DIR, tmp.resolve("l").toString(), SidecarConfig.SUMMARY_DIR, " ",
                SidecarConfig.RECENT_SIZE, "100", SidecarConfig.SUMMARY_SIZE, "7", SidecarConfig.API_TOKEN, " t0k ",
                SidecarConfig.CORS_ORIGINS, "http://a, http://b,", SidecarConfig.OLLAMA_URL, "http://ollama:11434/"));
        assertEquals(tmp.resolve("l"), explicit.logDir());
        assertEquals(tmp.resolve("summaries"), explicit.summaryDir(), "blank means derived");
        assertEquals(7, explicit.summarySize());
        assertEquals(25, explicit.recallSize(), "recall defaults to a quarter of the recent window, like the summary");
        assertTrue(explicit.recallEnabled());
        assertEquals(tmp.resolve("index"), explicit.indexDir(), "the index lives under the data directory");
        SidecarConfig noRecall = SidecarConfig.fromEnv(Map.of(SidecarConfig.RECALL_SIZE, "0",
                SidecarConfig.INDEX_DIR, tmp.resolve("idx").toString()));
        assertFalse(noRecall.recallEnabled(), "0 turns recall off");
        assertEquals(tmp.resolve("idx"), noRecall.indexDir());
        assertFalse(SidecarConfig.fromEnv(Map.of(SidecarConfig.ENABLE, "0")).recallEnabled(),
                "no window, nothing evicted to recall");
        assertEquals(Optional.of("t0k"), explicit.apiToken());
        assertEquals(List.of("http://a", "http://b"), explicit.corsOrigins());
        assertEquals(URI.create("http://ollama:11434"), explicit.ollamaUrl());
        SidecarConfig pool = SidecarConfig.fromEnv(Map.of(SidecarConfig.OLLAMA_URL,
                " http://gpu-1:11434/ , http://gpu-2:11434,https://gpu-3"));
        assertEquals(List.of(URI.create("http://gpu-1:11434"), URI.create("http://gpu-2:11434"),
                URI.create("https://gpu-3")), pool.ollamaUrls(), "a comma-separated list is a pool, in order");
        assertEquals(URI.create("http://gpu-1:11434"), pool.ollamaUrl());
        assertEquals(25, SidecarConfig.fromEnv(Map.of(SidecarConfig.RECENT_SIZE, "100")).summarySize());
    }

    @Test
    void modelSpecsParseInDesignOrder(@TempDir Path tmp) throws Exception {
        Path gguf = Files.writeString(tmp.resolve("m.gguf"), "GGUF");
        assertEquals(new ModelSpec(ModelSpec.Kind.GGUF, gguf.toString()), model("gguf:" + gguf));
        assertEquals(new ModelSpec(ModelSpec.Kind.GGUF, gguf.toString()), model(gguf.toString()));
        assertEquals(new ModelSpec(ModelSpec.Kind.OLLAMA_STORE, "qwen2:0.5b"), model("ollama-store:qwen2:0.5b"));
        assertEquals(new ModelSpec(ModelSpec.Kind.OLLAMA, "mistral"), model("ollama:mistral"));
        assertEquals(new ModelSpec(ModelSpec.Kind.ECHO, "echo"), model("echo"));
        assertEquals(new ModelSpec(ModelSpec.Kind.OLLAMA, "phi3:mini"), model(" phi3:mini "));
    }

    private static ModelSpec model(String v) {
        return SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, v)).model();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "STREAMING_LLM_PORT|abc",
            "STREAMING_LLM_PORT|70000",
            "STREAMING_LLM_PORT|-1",
            "STREAMING_LLM_START_SIZE|-4",
            "STREAMING_LLM_RECENT_SIZE|-2048",
            "STREAMING_LLM_RECENT_SIZE|0",
            "STREAMING_LLM_MAX_NEW_TOKENS|-1",
            "STREAMING_LLM_SUMMARY_SIZE|-5",
            "STREAMING_LLM_RECALL_SIZE|-1",
            "STREAMING_LLM_RECALL_SIZE|lots",
            "STREAMING_LLM_ECHO_DELAY_MS|-1",
            "STREAMING_LLM_TOKEN_TIMEOUT_S|soon",
            "STREAMING_LLM_SHUTDOWN_GRACE_S|-3",
            "STREAMING_LLM_LOG_RETRY_S|-1",
            "STREAMING_LLM_LOG_RETRY_S|forever",
            "STREAMING_LLM_ENABLE|maybe",
            "STREAMING_LLM_BOOTSTRAP_DEPS|2",
            "STREAMING_LLM_SUMMARY_MODE|abstractive",
            "STREAMING_LLM_OLLAMA_URL|not a url",
            "STREAMING_LLM_OLLAMA_URL|ftp://host:21",
            "STREAMING_LLM_OLLAMA_URL|127.0.0.1:11434",
            "STREAMING_LLM_OLLAMA_URL|http://",
            "STREAMING_LLM_HOST|bad host",
            "STREAMING_LLM_MODEL|ollama:",
            "STREAMING_LLM_MODEL|ollama-store:",
            "STREAMING_LLM_MODEL|gguf:",
            "STREAMING_LLM_MODEL|gguf:/no/such/model.gguf",
            "STREAMING_LLM_MODEL|/no/such/model.gguf",
            "STREAMING_LLM_MODEL|two words",
            "STREAMING_LLM_OPENAI_URL|not a url",
            "STREAMING_LLM_OPENAI_URL|ftp://host:21/v1",
            "STREAMING_LLM_OPENAI_URL|127.0.0.1:8080/v1",
            "STREAMING_LLM_OLLAMA_URL|http://a:11434,,http://b:11434",
            "STREAMING_LLM_OLLAMA_URL|http://a:11434,b:11434",
            "STREAMING_LLM_OLLAMA_URL|http://a:11434,http://a:11434/",
            "STREAMING_LLM_OPENAI_URL|http://vllm-1:8000/v1,ftp://vllm-2/v1",
            "STREAMING_LLM_MODEL|openai:",
            "STREAMING_LLM_MODEL|openai:two words",
    })
    void invalidValuesStopWithOneLineNamingVariableAndValue(String variable, String value) {
        ConfigException e = assertThrows(ConfigException.class, () -> SidecarConfig.fromEnv(Map.of(variable, value)));
        assertOneLineNaming(e, variable, value);
    }

    @Test
    void anEmptyModelIsUnusable() {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "  ");
        ConfigException e = assertThrows(ConfigException.class, () -> SidecarConfig.fromEnv(env));
        assertEquals(SidecarConfig.MODEL, e.variable());
        assertTrue(e.getMessage().contains(SidecarConfig.MODEL + " is empty"), e.getMessage());
    }

    @Test
    void controlCharactersInAValueCannotBreakTheLine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> SidecarConfig.fromEnv(Map.of(SidecarConfig.PORT, "80\n81")));
        assertOneLineNaming(e, SidecarConfig.PORT, "80\\u000a81");
        e = assertThrows(ConfigException.class,
                () -> SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "gguf:/x\0y.gguf")));
        assertOneLineNaming(e, SidecarConfig.MODEL, "gguf:/x\\u0000y.gguf");
        e = assertThrows(ConfigException.class,
                () -> SidecarConfig.fromEnv(Map.of(SidecarConfig.DATA_DIR, "/a\0b")));
        assertOneLineNaming(e, SidecarConfig.DATA_DIR, "/a\\u0000b");
    }

    private static void assertOneLineNaming(ConfigException e, String variable, String shownValue) {
        String m = e.getMessage();
        assertEquals(variable, e.variable());
        assertTrue(m.contains(variable), m);
        assertTrue(m.contains(shownValue.trim()), "message shows the value: " + m);
        assertFalse(m.contains("\n") || m.contains("\r") || m.contains("\0"), "one line: " + m);
    }

    @Test
    void keysListEveryVariableConstantOnceWithItsDefault() throws IllegalAccessException {
        Set<String> constants = new HashSet<>();
        for (Field f : SidecarConfig.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && Modifier.isPublic(f.getModifiers())) {
                constants.add((String) f.get(null));
            }
        }
        List<String> keyNames = SidecarConfig.KEYS.stream().map(SidecarConfig.Key::name).toList();
        assertEquals(constants, Set.copyOf(keyNames));
        assertEquals(keyNames.size(), Set.copyOf(keyNames).size(), "no duplicates");
        assertTrue(keyNames.stream().allMatch(k -> k.startsWith("STREAMING_LLM_")));
        assertEquals("8000", SidecarConfig.defaults().get(SidecarConfig.PORT));
        assertEquals("llama3.2:latest", SidecarConfig.defaults().get(SidecarConfig.MODEL));
        // every default parses: the defaults map itself is a valid environment
        Map<String, String> env = new HashMap<>(SidecarConfig.defaults());
        assertEquals(SidecarConfig.fromEnv(Map.of()), SidecarConfig.fromEnv(env));
    }

    @Test
    void openAiUpstreamKeys() {
        SidecarConfig defaults = SidecarConfig.fromEnv(Map.of());
        assertEquals(URI.create("http://127.0.0.1:8080/v1"), defaults.openAiUrl(), "llama-server's port: 8000 is the sidecar's own");
        assertTrue(defaults.openAiApiKey().isEmpty());

        SidecarConfig c = SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "openai:Qwen/Qwen2.5-7B-Instruct",
                SidecarConfig.OPENAI_URL, "http://vllm:8000/v1/", SidecarConfig.OPENAI_API_KEY, " sk-secret-123 "));
        assertEquals(new ModelSpec(ModelSpec.Kind.OPENAI, "Qwen/Qwen2.5-7B-Instruct"), c.model());
        assertEquals(URI.create("http://vllm:8000/v1"), c.openAiUrl());
        assertEquals(List.of(URI.create("http://vllm:8000/v1")), c.openAiUrls());
        assertEquals("sk-secret-123", c.openAiApiKey().value());
        assertFalse(c.toString().contains("sk-secret-123"), "the key is not printed with the configuration: " + c);
        assertFalse(c.openAiApiKey().toString().contains("secret"), c.openAiApiKey().toString());
        // a llama-server model id may be a file name: openai: wins over the .gguf suffix
        assertEquals(new ModelSpec(ModelSpec.Kind.OPENAI, "stories260K.gguf"), model("openai:stories260K.gguf"));

        ConfigException e = assertThrows(ConfigException.class,
                () -> SidecarConfig.fromEnv(Map.of(SidecarConfig.OPENAI_URL, "localhost:8080")));
        assertEquals(SidecarConfig.OPENAI_URL, e.variable());
        assertTrue(e.getMessage().contains("http://127.0.0.1:8080/v1"), "suggests the form: " + e.getMessage());
        ConfigException noName = assertThrows(ConfigException.class, () -> model("openai:"));
        assertTrue(noName.getMessage().contains("GET /v1/models"), noName.getMessage());
    }

    @Test
    void limitsHaveDocumentedDefaultsAndRefuseNonsense() {
        Limits limits = SidecarConfig.fromEnv(Map.of()).limits();
        assertEquals(new Limits(4096, 2048, 8, 64, Duration.ofSeconds(30), 4096), limits);
        assertEquals(4 << 20, limits.maxUpstreamLineBytes());
        Limits set = SidecarConfig.fromEnv(Map.of(SidecarConfig.MAX_CONNECTIONS, "10", SidecarConfig.MAX_WEBSOCKETS, "5",
                SidecarConfig.MAX_TURNS_PER_SOCKET, "2", SidecarConfig.MAX_TURNS_PER_CLIENT, "3",
                SidecarConfig.READ_TIMEOUT_S, "7", SidecarConfig.MAX_UPSTREAM_LINE_KB, "64")).limits();
        assertEquals(new Limits(10, 5, 2, 3, Duration.ofSeconds(7), 64), set);
        for (String key : List.of(SidecarConfig.MAX_CONNECTIONS, SidecarConfig.MAX_WEBSOCKETS,
                SidecarConfig.MAX_TURNS_PER_SOCKET, SidecarConfig.MAX_TURNS_PER_CLIENT, SidecarConfig.READ_TIMEOUT_S,
                SidecarConfig.MAX_UPSTREAM_LINE_KB)) {
            ConfigException zero = assertThrows(ConfigException.class, () -> SidecarConfig.fromEnv(Map.of(key, "0")));
            assertTrue(zero.getMessage().contains(key), zero.getMessage());
            assertThrows(ConfigException.class, () -> SidecarConfig.fromEnv(Map.of(key, "-5")));
        }
    }
}
