package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scripts/run-sidecar.sh} (S26), run for real. */
class RunScriptTest {
    /** Tools the script needs besides a JDK and Maven. */
    private static final List<String> TOOLS = List.of("bash", "dirname", "sed", "head", "readlink");

    @TempDir
    Path tmp;

    @Test
    void startsFromAnotherDirectoryExecsTheServerAndStopsOnSigterm() throws Exception {
        Path root = Repo.root();
        int port = freePort();
        Path cwd = Files.createDirectories(tmp.resolve("elsewhere"));
        ProcessBuilder pb = new ProcessBuilder(root.resolve(Repo.RUN_SCRIPT).toString()).directory(cwd.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("STREAMING_LLM_"));
        env.put("STREAMING_LLM_BOOTSTRAP_DEPS", "0");
        env.put("STREAMING_LLM_PORT", Integer.toString(port));
        env.put("STREAMING_LLM_HOST", "127.0.0.1");
        env.put("STREAMING_LLM_MODEL", "echo");
        env.put("STREAMING_LLM_DATA_DIR", tmp.resolve("data").toString());
        env.put("STREAMING_LLM_AGENTS_DIR", tmp.resolve("agents").toString());
        env.put("STREAMING_LLM_SHUTDOWN_GRACE_S", "1");
        Path log = tmp.resolve("sidecar.log");
        Process script = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitHealthz(script, port, log, Duration.ofSeconds(90));

            String cmdline = Files.readString(Path.of("/proc", Long.toString(script.pid()), "cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains("--add-modules jdk.incubator.vector -jar " + Repo.serverJar(root)),
                    "the script's own process became the server JVM (exec): " + cmdline);
            assertTrue(cmdline.endsWith("--host 127.0.0.1 --port " + port + " "), cmdline);
            assertEquals(root.toRealPath(), Path.of("/proc", Long.toString(script.pid()), "cwd").toRealPath(),
                    "the server runs in the repository root");
            assertEquals(0, DeploymentContractTest.runHealthcheck(
                    ComposeProject.load(root.resolve(Repo.COMPOSE_FILE), Map.of()).service(ComposeChecker.SERVICE).healthcheck().orElseThrow()
                            .subList(1, 4), port), "the compose health check accepts the real server");

            script.destroy(); // SIGTERM
            assertTrue(script.waitFor(30, TimeUnit.SECONDS), "the server stops within 30 s of SIGTERM");
            int code = script.exitValue();
            assertTrue(code == 0 || code == 143, "clean exit on SIGTERM (0, or 143 = the JVM's exit after its shutdown hooks), got "
                    + code + ":\n" + Files.readString(log));
        } finally {
            script.destroyForcibly();
        }
    }

    @Test
    void missingJdkStopsWithOneLineSayingWhatToInstall() throws Exception {
        Path tools = toolsDir("tools");
        Path noJdks = Files.createDirectories(tmp.resolve("no-jdks"));
        ProcessBuilder pb = new ProcessBuilder(Repo.root().resolve(Repo.RUN_SCRIPT).toString()).directory(tmp.toFile());
        pb.environment().clear();
        pb.environment().putAll(Map.of("PATH", tools.toString(), "HOME", tmp.toString(), "STREAMING_LLM_JDK_DIRS", noJdks.toString()));
        Result r = run(pb);
        assertNotEquals(0, r.code());
        List<String> lines = r.stderr().lines().toList();
        assertEquals(1, lines.size(), "exactly one line on stderr: " + r.stderr());
        assertTrue(lines.get(0).contains("JDK 22+") && lines.get(0).contains("install"), lines.get(0));
        assertEquals("", r.stdout());
    }

    @Test
    void environmentWinsOverEnvSidecarAndTheNewestJdkInJdkDirsIsUsed() throws Exception {
        Path repo = fakeRepo(true);
        Path jdks = tmp.resolve("jdks");
        Path out = Files.createDirectories(tmp.resolve("out"));
        fakeJdk(jdks.resolve("jdk-17"), "17.0.9", out);
        fakeJdk(jdks.resolve("jdk-21"), "21.0.2", out);
        fakeJdk(jdks.resolve("jdk-22"), "22", out);
        Files.writeString(repo.resolve(Repo.ENV_FILE), """
                # host-run settings
                STREAMING_LLM_PORT=1111
                STREAMING_LLM_HOST=127.0.0.9
                STREAMING_LLM_MODEL="echo"
                """);
        ProcessBuilder pb = new ProcessBuilder(repo.resolve(Repo.RUN_SCRIPT).toString()).directory(out.toFile());
        pb.environment().clear();
        pb.environment().putAll(Map.of("PATH", toolsDir("tools").toString(), "HOME", tmp.toString(),
                "JAVA_HOME", jdks.resolve("jdk-17").toString(), "STREAMING_LLM_JDK_DIRS", tmp.resolve("absent") + ":" + jdks,
                "STREAMING_LLM_BOOTSTRAP_DEPS", "0", "STREAMING_LLM_PORT", "2222"));
        Process p = pb.start();
        Result r = finish(p);
        assertEquals(0, r.code(), r.stderr());
        assertEquals(List.of("--add-modules", "jdk.incubator.vector", "-jar", repo.resolve("server/target/streaming-llm-server.jar").toString(),
                "--host", "127.0.0.9", "--port", "2222"), Files.readAllLines(out.resolve("args")));
        Map<String, String> env = DotEnv.parse(Files.readAllLines(out.resolve("env")));
        assertEquals("2222", env.get("STREAMING_LLM_PORT"), "the real environment wins over .env.sidecar");
        assertEquals("echo", env.get("STREAMING_LLM_MODEL"), ".env.sidecar is exported");
        assertEquals(jdks.resolve("jdk-22").toRealPath().toString(), env.get("JAVA_HOME"), "the newest JDK 22+ (JAVA_HOME 17 skipped, 21 too old)");
        assertEquals(Long.toString(p.pid()), Files.readString(out.resolve("pid")).strip(), "exec: java runs as the script's process");
        assertEquals(repo.toRealPath().toString(), Files.readString(out.resolve("cwd")).strip());
    }

    @Test
    void missingJarWithoutMavenStopsWithOneLine() throws Exception {
        Path repo = fakeRepo(false);
        Path jdks = tmp.resolve("jdks");
        fakeJdk(jdks.resolve("jdk-22"), "22.0.2", Files.createDirectories(tmp.resolve("out")));
        ProcessBuilder pb = new ProcessBuilder(repo.resolve(Repo.RUN_SCRIPT).toString()).directory(tmp.toFile());
        pb.environment().clear();
        pb.environment().putAll(Map.of("PATH", toolsDir("tools").toString(), "HOME", tmp.toString(),
                "STREAMING_LLM_JDK_DIRS", jdks.toString(), "STREAMING_LLM_BOOTSTRAP_DEPS", "0"));
        Result r = run(pb);
        assertNotEquals(0, r.code());
        List<String> lines = r.stderr().lines().toList();
        assertEquals(1, lines.size(), r.stderr());
        assertTrue(lines.get(0).contains("Maven is missing") && lines.get(0).contains("not built"), lines.get(0));
        assertFalse(Files.exists(tmp.resolve("out/args")), "nothing was started");
    }

    // --- helpers ---------------------------------------------------------------------------------

    record Result(int code, String stdout, String stderr) {
    }

    private Result run(ProcessBuilder pb) throws Exception {
        return finish(pb.start());
    }

    private Result finish(Process p) throws Exception {
        p.getOutputStream().close();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the script did not finish within 60 s");
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A PATH directory with bash and the few tools the script uses, and no java or mvn. */
    private Path toolsDir(String name) throws IOException {
        Path dir = tmp.resolve(name);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(dir);
        for (String tool : TOOLS) {
            Path found = List.of("/usr/bin", "/bin").stream().map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst()
                    .orElseThrow(() -> new IllegalStateException(tool + " not found in /usr/bin or /bin"));
            Files.createSymbolicLink(dir.resolve(tool), found);
        }
        return dir;
    }

    /** A copy of the script in a repo layout, with a placeholder jar when {@code withJar}. */
    private Path fakeRepo(boolean withJar) throws IOException {
        Path repo = tmp.resolve("repo");
        Path script = repo.resolve(Repo.RUN_SCRIPT);
        Files.createDirectories(script.getParent());
        Files.copy(Repo.root().resolve(Repo.RUN_SCRIPT), script, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        if (withJar) {
            Files.createDirectories(repo.resolve("server/target/libs"));
            Files.writeString(repo.resolve("server/target/streaming-llm-server.jar"), "placeholder");
        }
        return repo;
    }

    /**
     * A stand-in JDK: a {@code release} file with its version and a {@code bin/java} that records
     * its arguments, environment, PID and working directory into {@code out} instead of running.
     */
    private static void fakeJdk(Path home, String version, Path out) throws IOException {
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path java = home.resolve("bin/java");
        Files.writeString(java, """
                #!/bin/bash
                printf '%%s\\n' "$@" > '%1$s/args'
                while IFS='=' read -r -d '' k v; do printf '%%s=%%q\\n' "$k" "$v"; done < /proc/self/environ > '%1$s/env'
                echo $$ > '%1$s/pid'
                pwd -P > '%1$s/cwd'
                """.formatted(out));
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Polls GET /healthz with a short backoff until 200 or the deadline; fails early if the script exits. */
    private static void awaitHealthz(Process script, int port, Path log, Duration timeout) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        long backoffMs = 50;
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!script.isAlive()) {
                throw new AssertionError("run-sidecar.sh exited with " + script.exitValue() + " before /healthz answered:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = client.send(get, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            // waiting for the process to exit doubles as the backoff between polls
            script.waitFor(backoffMs, TimeUnit.MILLISECONDS);
            backoffMs = Math.min(backoffMs * 2, 500);
        }
        throw new AssertionError("/healthz did not answer 200 within " + timeout + " (last: " + last + "):\n" + Files.readString(log));
    }
}
