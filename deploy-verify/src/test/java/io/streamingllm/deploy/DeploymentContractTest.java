package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real deployment files hold the contract (S27–S30) in every scenario, and every check
 * rejects a deliberately broken copy with a message naming the problem.
 */
class DeploymentContractTest {
    @TempDir
    Path tmp;

    static List<Scenario> scenarios() {
        return List.of(Scenario.NONE, Scenario.HOST_PORT_9000, Scenario.ENV_SIDECAR_9000_LOOPBACK);
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void composeServiceHoldsTheContract(Scenario scenario) {
        assertEquals(List.of(), ComposeChecker.check(RepoCopy.of(tmp), scenario));
    }

    @Test
    void containerSeesWhatTheContractPromises() {
        Path repo = RepoCopy.of(tmp);
        ComposeChecker.check(repo, Scenario.ENV_SIDECAR_9000_LOOPBACK);
        ComposeService s = ComposeProject.load(repo.resolve(Repo.COMPOSE_FILE), Map.of()).service(ComposeChecker.SERVICE);
        Map<String, String> env = s.containerEnvironment();
        assertEquals("8000", env.get("STREAMING_LLM_PORT"), "the env file's port 9000 is not the container's");
        assertEquals("http://host.docker.internal:11434", env.get("STREAMING_LLM_OLLAMA_URL"));
        assertEquals("http://host.docker.internal:8080/v1", env.get("STREAMING_LLM_OPENAI_URL"));
        assertEquals("sk-from-env-file", env.get("STREAMING_LLM_OPENAI_API_KEY"), "the key comes from .env.sidecar");
        assertEquals("echo", env.get("STREAMING_LLM_MODEL"), "other .env.sidecar values reach the container");
        assertEquals(List.of(new PortMapping(null, 8000, 8000, "tcp")), s.ports());
    }

    @Test
    void userChosenOllamaUrlIsRespected() {
        Path repo = RepoCopy.of(tmp);
        Scenario chosen = new Scenario("Ollama URL chosen in the shell", Map.of("STREAMING_LLM_OLLAMA_URL", "http://127.0.0.1:11434"), null, 8000);
        assertEquals(List.of(), ComposeChecker.check(repo, chosen));
        assertEquals("http://127.0.0.1:11434", ComposeProject.load(repo.resolve(Repo.COMPOSE_FILE), chosen.shellEnv())
                .service(ComposeChecker.SERVICE).containerEnvironment().get("STREAMING_LLM_OLLAMA_URL"));
    }

    @Test
    void userChosenOpenAiUrlIsRespected() {
        Path repo = RepoCopy.of(tmp);
        Scenario chosen = new Scenario("OpenAI URL chosen in the shell", Map.of("STREAMING_LLM_OPENAI_URL", "http://vllm:8000/v1"), null, 8000);
        assertEquals(List.of(), ComposeChecker.check(repo, chosen));
        assertEquals("http://vllm:8000/v1", ComposeProject.load(repo.resolve(Repo.COMPOSE_FILE), chosen.shellEnv())
                .service(ComposeChecker.SERVICE).containerEnvironment().get("STREAMING_LLM_OPENAI_URL"));
    }

    record Breakage(String name, String file, UnaryOperator<String> edit, Scenario scenario, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Breakage> composeBreakages() {
        String c = Repo.COMPOSE_FILE;
        return List.of(
                new Breakage("wrong target port", c, s -> s.replace("- ${STREAMING_LLM_PORT:-8000}:8000", "- ${STREAMING_LLM_PORT:-8000}:8080"),
                        Scenario.NONE, "no port mapping targets the container's listen port 8000"),
                new Breakage("container port follows the host port", c, s -> s
                        .replace("- ${STREAMING_LLM_PORT:-8000}:8000", "- ${STREAMING_LLM_PORT:-8000}:${STREAMING_LLM_PORT:-8000}")
                        .replace("STREAMING_LLM_PORT: \"8000\"", "STREAMING_LLM_PORT: ${STREAMING_LLM_PORT:-8000}")
                        .replace("      - --port\n      - \"8000\"\n", ""),
                        Scenario.HOST_PORT_9000, "the container listens on port 9000, not 8000"),
                new Breakage("published port ignores STREAMING_LLM_PORT", c, s -> s.replace("${STREAMING_LLM_PORT:-8000}:8000", "8000:8000"),
                        Scenario.HOST_PORT_9000, "the published host port is [8000], expected 9000"),
                new Breakage("missing env_file", c, s -> s.replace("    env_file:\n      - path: ../../.env.sidecar\n        required: false\n", ""),
                        Scenario.NONE, "env_file does not load the repo-root .env.sidecar"),
                new Breakage("env_file relative to the wrong directory", c, s -> s.replace("path: ../../.env.sidecar", "path: .env.sidecar"),
                        Scenario.NONE, "env_file does not load the repo-root .env.sidecar"),
                new Breakage("loopback Ollama URL default", c, s -> s.replace(":-http://host.docker.internal:11434}", ":-http://127.0.0.1:11434}"),
                        Scenario.NONE, "the Ollama URL inside the container defaults to loopback"),
                new Breakage("Ollama URL left to the env file", c, s -> s.replace(
                        "      STREAMING_LLM_OLLAMA_URL: ${STREAMING_LLM_OLLAMA_URL:-http://host.docker.internal:11434}\n", ""),
                        Scenario.NONE, "the Ollama URL inside the container defaults to loopback"),
                new Breakage("loopback OpenAI URL default", c, s -> s.replace(":-http://host.docker.internal:8080/v1}", ":-http://127.0.0.1:8080/v1}"),
                        Scenario.NONE, "the OpenAI-compatible server URL inside the container defaults to loopback"),
                new Breakage("OpenAI URL left to the env file", c, s -> s.replace(
                        "      STREAMING_LLM_OPENAI_URL: ${STREAMING_LLM_OPENAI_URL:-http://host.docker.internal:8080/v1}\n", ""),
                        Scenario.NONE, "the OpenAI-compatible server URL inside the container defaults to loopback"),
                new Breakage("no host-gateway mapping", c, s -> s.replace("    extra_hosts:\n      - host.docker.internal:host-gateway\n", ""),
                        Scenario.NONE, "extra_hosts lacks host.docker.internal:host-gateway"),
                new Breakage("data not mounted", c, s -> s.replace("      - ../../data:/sidecar/data\n", ""),
                        Scenario.NONE, "STREAMING_LLM_DATA_DIR is /sidecar/data inside the container, which is on no mounted volume"),
                new Breakage("data mounted from the compose dir", c, s -> s.replace("- ../../data:/sidecar/data", "- ./data:/sidecar/data"),
                        Scenario.NONE, "instead of"),
                new Breakage("log dir left to .env.sidecar", c, s -> s.replace("      STREAMING_LLM_LOG_DIR: /sidecar/data/logs\n", ""),
                        Scenario.ENV_SIDECAR_9000_LOOPBACK, "STREAMING_LLM_LOG_DIR is /var/tmp/sidecar-logs inside the container"),
                new Breakage("agents dir not mounted", c, s -> s.replace("      - ../../.agents:/sidecar/.agents\n", ""),
                        Scenario.NONE, "STREAMING_LLM_AGENTS_DIR is /sidecar/.agents inside the container, which is on no mounted volume"),
                new Breakage("host bind address from .env.sidecar", c, s -> s.replace("      STREAMING_LLM_HOST: 0.0.0.0\n", "")
                        .replace("      - --host\n      - 0.0.0.0\n", ""),
                        Scenario.ENV_SIDECAR_9000_LOOPBACK, "the container binds 127.0.0.1"),
                new Breakage("command starts another jar", c, s -> s.replace("/sidecar/server/streaming-llm-server.jar", "/sidecar/server/app.jar"),
                        Scenario.NONE, "not the jar the build produces: server/target/streaming-llm-server.jar"),
                new Breakage("jar not mounted", c, s -> s.replace("      - ../../server/target:/sidecar/server:ro\n", ""),
                        Scenario.NONE, "not mounted from the host"),
                new Breakage("build renamed the jar", Repo.SERVER_POM, s -> s.replace("<finalName>streaming-llm-server</finalName>", "<finalName>sidecar</finalName>"),
                        Scenario.NONE, "not the jar the build produces: server/target/sidecar.jar"),
                new Breakage("no Vector API module", c, s -> s.replace("      - --add-modules\n      - jdk.incubator.vector\n", ""),
                        Scenario.NONE, "lacks --add-modules jdk.incubator.vector"),
                new Breakage("healthcheck missing", c, s -> s.substring(0, s.indexOf("    # bash's /dev/tcp")) + s.substring(s.indexOf("    stop_grace_period")),
                        Scenario.NONE, "no healthcheck"),
                new Breakage("healthcheck on the wrong path", c, s -> s.replace("GET /healthz", "GET /readyz"),
                        Scenario.NONE, "the healthcheck does not request /healthz"),
                new Breakage("healthcheck on the host port", c, s -> s.replace("/dev/tcp/127.0.0.1/$${STREAMING_LLM_PORT}", "/dev/tcp/127.0.0.1/9000"),
                        Scenario.NONE, "the healthcheck does not reach the listen port 8000"),
                new Breakage("Java 17 image", c, s -> s.replace("image: eclipse-temurin:25-jre", "image: eclipse-temurin:17-jre"),
                        Scenario.NONE, "is not a Java 22+ runtime image"),
                new Breakage("required variable unset", c, s -> s.replace("${STREAMING_LLM_PORT:-8000}:8000", "${STREAMING_LLM_PORT:?set the host port}:8000"),
                        Scenario.NONE, "compose would refuse"),
                new Breakage("service renamed", c, s -> s.replace("  streaming-llm:\n", "  sidecar:\n"),
                        Scenario.NONE, "no service \"streaming-llm\""));
    }

    @ParameterizedTest
    @MethodSource("composeBreakages")
    void composeCheckRejectsBrokenCopy(Breakage b) {
        Path repo = RepoCopy.of(tmp);
        assertEquals(List.of(), ComposeChecker.check(repo, b.scenario()), "the intact copy passes in this scenario");
        RepoCopy.edit(repo, b.file(), b.edit());
        assertRejected(ComposeChecker.check(repo, b.scenario()), b.expected());
    }

    @Test
    void envTemplateListsEveryKeyWithItsDefault() {
        assertEquals(List.of(), EnvTemplateChecker.check(Repo.root().resolve(Repo.ENV_TEMPLATE)));
    }

    static List<Breakage> templateBreakages() {
        String t = Repo.ENV_TEMPLATE;
        return List.of(
                new Breakage("missing key", t, s -> s.replace("# STREAMING_LLM_LOG_DIR=\n", ""), null,
                        "STREAMING_LLM_LOG_DIR is missing"),
                new Breakage("extra key", t, s -> s + "\n# Not read by anything.\n# STREAMING_LLM_TURBO=1\n", null,
                        "STREAMING_LLM_TURBO is not a variable the code reads"),
                new Breakage("wrong default", t, s -> s.replace("# STREAMING_LLM_PORT=8000", "# STREAMING_LLM_PORT=8080"), null,
                        "STREAMING_LLM_PORT documents default \"8080\" but the code's default is \"8000\""),
                new Breakage("undocumented key", t, s -> s.replace("# Recent-window size in tokens.\n", ""), null,
                        "STREAMING_LLM_RECENT_SIZE has no comment line describing it"),
                new Breakage("active assignment", t, s -> s.replace("# STREAMING_LLM_MODEL=llama3.2:latest", "STREAMING_LLM_MODEL=llama3.2:latest"), null,
                        "STREAMING_LLM_MODEL is set, not documented as a commented default"),
                new Breakage("duplicate key", t, s -> s + "\n# Again.\n# STREAMING_LLM_HOST=0.0.0.0\n", null,
                        "STREAMING_LLM_HOST appears more than once"));
    }

    @ParameterizedTest
    @MethodSource("templateBreakages")
    void envTemplateCheckRejectsBrokenCopy(Breakage b) {
        Path repo = RepoCopy.of(tmp);
        RepoCopy.edit(repo, b.file(), b.edit());
        assertRejected(EnvTemplateChecker.check(repo.resolve(Repo.ENV_TEMPLATE)), b.expected());
    }

    @Test
    void readmeHasTheSidecarDeploymentSection() {
        assertEquals(List.of(), ReadmeChecker.check(Repo.root()));
    }

    static List<Breakage> readmeBreakages() {
        String r = Repo.README;
        return List.of(
                new Breakage("no section", r, s -> s.replace("## Sidecar Deployment", "## Deploying"), null,
                        "README.md has no \"Sidecar Deployment\" heading"),
                new Breakage("heading only inside a code block", r, s -> s.replace("## Sidecar Deployment", "```\n## Sidecar Deployment\n```"), null,
                        "README.md has no \"Sidecar Deployment\" heading"),
                new Breakage("no WebSocket URL", r, s -> s.replace("`ws://HOST:PORT/ws/chat`", "the chat socket")
                        .replace("(`ws://streaming-llm:8000/ws/chat`)", ""), null,
                        "does not show the WebSocket URL"),
                new Breakage("WebSocket URL only in prose", r, s -> s.replace("`ws://HOST:PORT/ws/chat`", "ws://HOST:PORT/ws/chat")
                        .replace("(`ws://streaming-llm:8000/ws/chat`)", ""), null,
                        "does not show the WebSocket URL"),
                new Breakage("no OLLAMA_HOST", r, s -> s.replace("OLLAMA_HOST=", "OLLAMA_URL="), null,
                        "does not show OLLAMA_HOST=http://HOST:PORT"),
                new Breakage("no compose path", r, s -> s.replace("docker/workflow-runner/streaming-llm.compose.yml", "the compose file"), null,
                        "does not show docker/workflow-runner/streaming-llm.compose.yml"),
                new Breakage("no container notes", r, s -> s.replace("### What changes inside a container", "### Notes"), null,
                        "does not explain what changes inside a container"),
                new Breakage("content moved out of the section", r, s -> s.replace("## Sidecar Deployment", "## Sidecar Deployment\n\nSee below.\n\n## Other"), null,
                        "does not show scripts/run-sidecar.sh"));
    }

    @ParameterizedTest
    @MethodSource("readmeBreakages")
    void readmeCheckRejectsBrokenCopy(Breakage b) {
        Path repo = RepoCopy.of(tmp);
        RepoCopy.edit(repo, b.file(), b.edit());
        assertRejected(ReadmeChecker.check(repo), b.expected());
    }

    @Test
    void readmeCheckRejectsSectionNamingAMissingFile() throws IOException {
        Path repo = RepoCopy.of(tmp);
        Files.delete(repo.resolve(Repo.ENV_TEMPLATE));
        assertRejected(ReadmeChecker.check(repo), "names .env.sidecar.example, which does not exist");
    }

    @Test
    void todoChecksItemsAgainstFiles() {
        assertEquals(List.of(), TodoChecker.check(Repo.root()));
    }

    @Test
    void todoCheckRejectsUncheckedS27() {
        Path repo = RepoCopy.of(tmp);
        RepoCopy.edit(repo, Repo.TODO, s -> s.replace("- [x] S27", "- [ ] S27"));
        assertRejected(TodoChecker.check(repo), "Phase 3 item S27 is unchecked although its files [docker/workflow-runner/streaming-llm.compose.yml] exist");
    }

    @Test
    void todoCheckRejectsCheckedItemWhoseFileIsMissing() throws IOException {
        Path repo = RepoCopy.of(tmp);
        Files.delete(repo.resolve("data/archive/.gitkeep"));
        assertRejected(TodoChecker.check(repo), "names missing files [data/archive/.gitkeep]");
    }

    @Test
    void todoCheckRejectsMissingPhase3Item() {
        Path repo = RepoCopy.of(tmp);
        RepoCopy.edit(repo, Repo.TODO, s -> s.replaceAll("(?m)^- \\[x] S29.*\\n", ""));
        assertRejected(TodoChecker.check(repo), "Phase 3 has no S29 item");
    }

    /** The compose health check, run for real with bash against real HTTP servers on loopback. */
    @Test
    void healthcheckCommandPassesOnlyWhenHealthzAnswers200() throws Exception {
        ComposeService s = ComposeProject.load(Repo.root().resolve(Repo.COMPOSE_FILE), Map.of()).service(ComposeChecker.SERVICE);
        List<String> test = s.healthcheck().orElseThrow();
        assertEquals("CMD", test.get(0));
        List<String> command = test.subList(1, test.size());
        assertEquals(0, runHealthcheck(command, serve(200)), "healthy server");
        assertNotEquals(0, runHealthcheck(command, serve(503)), "unhealthy server");
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        assertNotEquals(0, runHealthcheck(command, closed), "nothing listening");
    }

    private final List<HttpServer> servers = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void stopServers() {
        servers.forEach(srv -> srv.stop(0));
    }

    private int serve(int status) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            int code = ex.getRequestURI().getPath().equals("/healthz") ? status : 404;
            byte[] body = "{\"status\":\"ok\"}".getBytes();
            ex.sendResponseHeaders(code, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    static int runHealthcheck(List<String> command, int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("STREAMING_LLM_PORT", Integer.toString(port));
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("healthcheck did not finish within 20 s");
        }
        return p.exitValue();
    }

    static void assertRejected(List<String> problems, String expected) {
        assertTrue(problems.stream().anyMatch(p -> p.contains(expected)),
                () -> "expected a problem containing \"" + expected + "\", got " + problems);
    }
}
