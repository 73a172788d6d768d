package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up faults through the real run script: each ends with a non-zero exit and exactly one line naming the
 * fault, with no stack trace and never a "listening on …:-1".
 */
class StartupFaultsTest {
    private static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    Path tmp;

    @Test
    void aPortInUseStopsWithOneLineNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Result r = run(Map.of("STREAMING_LLM_PORT", Integer.toString(port)));
            assertNotEquals(0, r.code(), r.output());
            assertEquals(List.of("streaming-llm: cannot listen on 127.0.0.1:" + port + ": Address already in use"),
                    r.lines(), r.output());
        }
    }

    @Test
    void anAgentsDirectoryThatCannotBeCreatedStopsWithOneLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-directory"), "x");
        Result r = run(Map.of("STREAMING_LLM_AGENTS_DIR", file.resolve("agents").toString()));
        assertNotEquals(0, r.code(), r.output());
        assertEquals(1, r.lines().size(), r.output());
        String line = r.lines().get(0);
        assertEquals(true, line.startsWith("streaming-llm: cannot start: cannot create agents directory "
                + file.resolve("agents")), line);
    }

    @Test
    void aLogDirectoryThatIsAFileStopsWithOneLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("logs-file"), "x");
        Result r = run(Map.of("STREAMING_LLM_LOG_DIR", file.toString()));
        assertNotEquals(0, r.code(), r.output());
        assertEquals(1, r.lines().size(), r.output());
        assertEquals(true, r.lines().get(0).startsWith("streaming-llm: ") && r.lines().get(0).contains(file.toString()),
                r.output());
    }

    @Test
    void badConfigurationStopsWithOneLine() throws Exception {
        Result r = run(Map.of("STREAMING_LLM_MAX_CONNECTIONS", "-5"));
        assertNotEquals(0, r.code(), r.output());
        assertEquals(1, r.lines().size(), r.output());
        assertEquals(true, r.lines().get(0).contains("STREAMING_LLM_MAX_CONNECTIONS"), r.output());
    }

    @Test
    void aDatabaseUrlThatIsNotPostgresqlStopsWithOneLineWithoutThePassword() throws Exception {
        Result r = run(Map.of("STREAMING_LLM_DATABASE_URL", "mysql://app:topsecret-pw@db/sidecar"));
        assertEquals(2, r.code(), r.output());
        assertEquals(List.of("streaming-llm: invalid STREAMING_LLM_DATABASE_URL (value not shown: it may hold a password):"
                + " expected a URL starting with postgresql:// or jdbc:postgresql://"), r.lines(), r.output());
    }

    @Test
    void anUnreachableDatabaseStopsWithOneLineNamingItButNotThePassword() throws Exception {
        int port = freePort(); // nothing listens there
        Result r = run(Map.of("STREAMING_LLM_DATABASE_URL", "postgresql://app@127.0.0.1:" + port + "/sidecar",
                "STREAMING_LLM_DATABASE_PASSWORD", "topsecret-pw"));
        assertEquals(2, r.code(), r.output());
        assertEquals(1, r.lines().size(), r.output());
        String line = r.lines().get(0);
        assertEquals(true, line.startsWith("streaming-llm: cannot start: cannot connect to PostgreSQL at 127.0.0.1:"
                + port + "/sidecar: "), line);
        assertEquals(false, r.output().contains("topsecret-pw"), r.output());
    }

    record Result(int code, String output) {
        /** The output without the JVM's own incubator-module notice. */
        List<String> lines() {
            return output.lines().filter(l -> !l.isBlank() && !l.equals(INCUBATOR_WARNING)).toList();
        }
    }

    private Result run(Map<String, String> overrides) throws Exception {
        Path root = Repo.root();
        Path log = Files.createTempFile(tmp, "start", ".log");
        ProcessBuilder pb = new ProcessBuilder(root.resolve(Repo.RUN_SCRIPT).toString()).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("STREAMING_LLM_"));
        env.put("STREAMING_LLM_BOOTSTRAP_DEPS", "0");
        env.put("STREAMING_LLM_PORT", Integer.toString(freePort()));
        env.put("STREAMING_LLM_HOST", "127.0.0.1");
        env.put("STREAMING_LLM_MODEL", "echo");
        env.put("STREAMING_LLM_DATA_DIR", tmp.resolve("data").toString());
        env.put("STREAMING_LLM_AGENTS_DIR", tmp.resolve("agents").toString());
        env.putAll(overrides);
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the sidecar kept running:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
