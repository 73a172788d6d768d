package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sidecars on one data directory, started for real through {@code scripts/run-sidecar.sh}: the second stops
 * with one line naming the first, before it touches anything (the first one's journal stays whole), and every turn
 * the first acknowledged is in its log after a restart. A read-only data directory stops start-up the same way.
 */
class DataDirLockTest {
    /** What the JVM itself prints for {@code --add-modules jdk.incubator.vector}; not the sidecar's output. */
    private static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    Path tmp;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aSecondSidecarOnTheSameDataDirectoryStopsWithOneLineAndLosesNothing() throws Exception {
        Path data = tmp.resolve("data");
        int port = freePort();
        Process first = start(data, port, tmp.resolve("first.log"));
        try {
            awaitHealthz(first, port, tmp.resolve("first.log"));
            for (int i = 0; i < 10; i++) {
                turn(port, "locked-1", "before " + i);
            }
            List<Path> journal = segments(data);
            assertTrue(!journal.isEmpty(), "the running sidecar has a journal segment");

            // another port: the lock, not the port, must stop it
            Result second = run(data, freePort());
            assertNotEquals(0, second.code(), "the second sidecar must not run: " + second.output());
            List<String> lines = sidecarLines(second.output());
            assertEquals(1, lines.size(), "one line, no stack trace: " + second.output());
            assertTrue(lines.get(0).startsWith("streaming-llm: data directory " + data
                    + " is in use by another process (pid " + first.pid() + ", started "), lines.get(0));

            // the same port as well: the data directory is checked first, so the message names the holder
            Result third = run(data, port);
            assertNotEquals(0, third.code());
            assertTrue(third.output().contains("pid " + first.pid()), third.output());

            assertEquals(journal, segments(data), "the refused starts left the first one's journal alone");
            assertTrue(deletedFilesOpenBy(first.pid()).isEmpty(),
                    "no file the first sidecar has open was deleted under it: " + deletedFilesOpenBy(first.pid()));
            for (int i = 0; i < 10; i++) {
                turn(port, "locked-1", "after " + i);
            }
        } finally {
            stop(first);
        }

        Process restarted = start(data, port, tmp.resolve("restarted.log"));
        try {
            awaitHealthz(restarted, port, tmp.resolve("restarted.log"));
            HttpResponse<String> events = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/conversations/locked-1/events?limit=100")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, events.statusCode(), events.body());
            int count = events.body().split("\"type\":\"").length - 1;
            assertEquals(40, count, "every acknowledged turn (20, two events each) after a restart: " + events.body());
        } finally {
            stop(restarted);
        }
    }

    @Test
    void aReadOnlyDataDirectoryStopsStartUpWithOneLine() throws Exception {
        Path volume = Files.createDirectories(tmp.resolve("ro"));
        command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", volume.toString());
        try {
            Path data = Files.createDirectories(volume.resolve("data"));
            command("mount", "-o", "remount,ro", volume.toString());
            Result r = run(data, freePort());
            assertNotEquals(0, r.code(), r.output());
            List<String> lines = sidecarLines(r.output());
            assertEquals(List.of("streaming-llm: data directory " + data + " is not writable: Read-only file system"),
                    lines, r.output());
        } finally {
            command("umount", "-l", volume.toString());
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    record Result(int code, String output) {
    }

    private ProcessBuilder script(Path data, int port, Path log) {
        Path root = Repo.root();
        ProcessBuilder pb = new ProcessBuilder(root.resolve(Repo.RUN_SCRIPT).toString()).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("STREAMING_LLM_"));
        env.put("STREAMING_LLM_BOOTSTRAP_DEPS", "0");
        env.put("STREAMING_LLM_PORT", Integer.toString(port));
        env.put("STREAMING_LLM_HOST", "127.0.0.1");
        env.put("STREAMING_LLM_MODEL", "echo");
        env.put("STREAMING_LLM_DATA_DIR", data.toString());
        env.put("STREAMING_LLM_AGENTS_DIR", tmp.resolve("agents").toString());
        env.put("STREAMING_LLM_SHUTDOWN_GRACE_S", "1");
        return pb.redirectErrorStream(true).redirectOutput(log.toFile());
    }

    private Process start(Path data, int port, Path log) throws IOException {
        return script(data, port, log).start();
    }

    /** Runs a sidecar that is expected to stop by itself; its exit code and output. */
    private Result run(Path data, int port) throws Exception {
        Path log = Files.createTempFile(tmp, "refused", ".log");
        Process p = script(data, port, log).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the sidecar kept running:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    /** The output without the JVM's own incubator-module notice. */
    private static List<String> sidecarLines(String output) {
        return output.lines().filter(l -> !l.isBlank() && !l.equals(INCUBATOR_WARNING)).toList();
    }

    private void turn(int port, String conversation, String text) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/conversations/" + conversation + "/messages"))
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"agent_id\":\"planner\",\"user_message\":\"" + text + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("event: done"), "acknowledged: " + r.body());
    }

    private static List<Path> segments(Path data) throws IOException {
        try (Stream<Path> s = Files.list(data.resolve("logs/.journal"))) {
            return s.sorted().toList();
        }
    }

    /** The targets of the process's open descriptors that were deleted ("… (deleted)"). */
    private static List<String> deletedFilesOpenBy(long pid) throws IOException {
        List<String> deleted = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.endsWith("(deleted)")) {
                        deleted.add(target);
                    }
                } catch (IOException closedMeanwhile) {
                    // a descriptor closed while listing
                }
            }
        }
        return deleted;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy(); // SIGTERM: the orderly stop
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void command(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out + " (this test mounts a tmpfs as root)");
        }
    }

    /** Polls GET /healthz until 200; fails early if the script exits. */
    private void awaitHealthz(Process script, int port, Path log) throws Exception {
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        long backoffMs = 50;
        while (System.nanoTime() < deadline) {
            if (!script.isAlive()) {
                throw new AssertionError("the sidecar exited with " + script.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.send(get, HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            script.waitFor(backoffMs, TimeUnit.MILLISECONDS); // waiting for an exit doubles as the backoff
            backoffMs = Math.min(backoffMs * 2, 500);
        }
        throw new AssertionError("/healthz did not answer within 90 s:\n" + Files.readString(log));
    }
}
