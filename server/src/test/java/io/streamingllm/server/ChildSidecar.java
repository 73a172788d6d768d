package io.streamingllm.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The real entry point ({@link Main}) in a child JVM, started through {@code bash} so that a test can lower its
 * limits ({@code ulimit -n}) and send it signals. Its output is collected line by line.
 */
final class ChildSidecar implements AutoCloseable {
    final Process process;
    final int port;
    final URI base;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private ChildSidecar(Process process, int port) {
        this.process = process;
        this.port = port;
        this.base = URI.create("http://127.0.0.1:" + port);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException closed) {
                // the process ended
            }
        });
    }

    /** Starts Main with {@code env} under {@code ulimit -n descriptors} and waits until it is listening. */
    static ChildSidecar start(Path dir, int descriptors, Map<String, String> env) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        String command = "ulimit -n " + descriptors + " && exec \"$0\" \"$@\"";
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", command, java, "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "-Djava.util.logging.config.file=" + Path.of("src/test/resources/logging.properties").toAbsolutePath(),
                Main.class.getName(), "--host", "127.0.0.1", "--port", Integer.toString(port)));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("STREAMING_LLM_"));
        pb.environment().put("STREAMING_LLM_MODEL", "echo");
        pb.environment().put("STREAMING_LLM_DATA_DIR", dir.resolve("data").toString());
        pb.environment().put("STREAMING_LLM_AGENTS_DIR", dir.resolve("agents").toString());
        pb.environment().putAll(env);
        ChildSidecar child = new ChildSidecar(pb.start(), port);
        child.awaitLine("engine echo");
        return child;
    }

    /** Waits for a line containing {@code text}; fails with the output so far. */
    String awaitLine(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (line.contains(text)) {
                    return line;
                }
            } else if (!process.isAlive() && lines.isEmpty()) {
                break;
            }
        }
        throw new AssertionError("no line with \"" + text + "\"; output: " + seen);
    }

    /** The output so far. */
    List<String> output() {
        lines.drainTo(seen);
        return List.copyOf(seen);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
