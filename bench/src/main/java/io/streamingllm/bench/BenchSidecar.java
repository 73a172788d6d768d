package io.streamingllm.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import com.sun.management.OperatingSystemMXBean;

/**
 * The sidecar as users run it: the built jar in its own JVM, with the engine settings given and the per-client
 * limits lifted (every benchmark session comes from one address). Also reads a process's CPU time from /proc.
 */
final class BenchSidecar implements AutoCloseable {
    static final String JAR = "server/target/streaming-llm-server.jar";

    final Process process;
    final int port;
    private final Path dataDir;

    private BenchSidecar(Process process, int port, Path dataDir) {
        this.process = process;
        this.port = port;
        this.dataDir = dataDir;
    }

    static void requireJar() {
        if (!Files.isRegularFile(Path.of(JAR))) {
            throw new IllegalStateException(JAR + " is missing: build with mvn -B -q -pl bench -am package -DskipTests");
        }
    }

    /** Starts the jar with {@code engine} (e.g. STREAMING_LLM_MODEL and the upstream's URL) and waits for /healthz. */
    static BenchSidecar start(Map<String, String> engine) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path data = Files.createTempDirectory("relay-bench");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector"));
        // e.g. BENCH_SIDECAR_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/sidecar.jfr to profile the sidecar
        String extra = System.getenv().getOrDefault("BENCH_SIDECAR_JAVA_OPTS", "").trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(List.of("-jar", JAR, "--host", "127.0.0.1", "--port", Integer.toString(port)));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(engine);
        pb.environment().put("STREAMING_LLM_DATA_DIR", data.toString());
        pb.environment().put("STREAMING_LLM_AGENTS_DIR", data.resolve("agents").toString());
        // every session comes from this one address: the per-client and socket caps would refuse the load
        pb.environment().put("STREAMING_LLM_MAX_CONNECTIONS", "100000");
        pb.environment().put("STREAMING_LLM_MAX_WEBSOCKETS", "100000");
        pb.environment().put("STREAMING_LLM_MAX_TURNS_PER_CLIENT", "100000");
        pb.redirectErrorStream(true).redirectOutput(data.resolve("sidecar.out").toFile());
        Process p = pb.start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroy();
                    throw new IllegalStateException("sidecar did not start: " + Files.readString(data.resolve("sidecar.out")));
                }
                TimeUnit.MILLISECONDS.sleep(50); // polling a child process's start-up, not synchronising threads
            }
        }
        return new BenchSidecar(p, port, data);
    }

    long cpuNanos() throws IOException {
        String[] f = Files.readString(Path.of("/proc/" + process.pid() + "/stat")).split("\\) ", 2)[1].split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * 10_000_000L; // USER_HZ = 100
    }

    long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        process.waitFor(30, TimeUnit.SECONDS);
        try (var walk = Files.walk(dataDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        }
    }

    /**
     * CPU time of this JVM: the load generator's clients and the fake upstream, which share the machine with the
     * sidecar; shows how much of it they take.
     */
    static long benchCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of a process's live threads, grouped: JIT compilers ({@code jit}), GC ({@code gc}), the rest. */
    static Map<String, Long> cpuByThreadKind(long pid) throws IOException {
        Map<String, Long> kinds = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(") ") + 2).split(" ");
                long nanos = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
                String kind = name.startsWith("C1 ") || name.startsWith("C2 ") ? "jit"
                        : name.startsWith("GC ") || name.startsWith("G1 ") ? "gc" : "other";
                kinds.merge(kind, nanos, Long::sum);
            }
        }
        return kinds;
    }
}
