package io.streamingllm.bench;

import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.StringReader;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * N concurrent WebSocket sessions, several turns each, through the sidecar (a child process running the
 * built jar) to the fake Ollama upstream; the same load straight to the upstream gives the baseline
 * time-to-first-token. Run by {@code scripts/bench.sh ws [sessions] [delays-ms] [turns] [tokens]}.
 */
public final class WsBench {
    private static final String JAR = "server/target/streaming-llm-server.jar";
    private static final jakarta.json.spi.JsonProvider JSON = jakarta.json.spi.JsonProvider.provider();

    record Scenario(int sessions, int delayMs, int turns, int tokensPerReply, boolean staggered, String conversationPrefix) {
        /**
         * When session {@code i} starts: at once in lockstep (every session's turns start and end together, the
         * worst case for time to first token), or spread evenly over one reply's duration when staggered, as
         * independent users arrive.
         */
        long startOffsetNanos(int session) {
            return staggered ? (long) session * delayMs * tokensPerReply * 1_000_000L / sessions : 0;
        }
    }

    record Outcome(long tokens, int errors, double seconds, long[] ttftNanos) {
        double p(double q) {
            if (ttftNanos.length == 0) {
                return Double.NaN;
            }
            long[] s = ttftNanos.clone();
            Arrays.sort(s);
            return s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)] / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        int[] sessions = ints(args.length > 0 ? args[0] : "1,50,200,1000");
        int[] delays = ints(args.length > 1 ? args[1] : "0,20");
        int turns = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        String arrivals = args.length > 4 ? args[4] : "lockstep";
        if (!arrivals.equals("lockstep") && !arrivals.equals("staggered")) {
            throw new IllegalArgumentException("arrivals must be lockstep or staggered, not " + arrivals);
        }
        boolean staggered = arrivals.equals("staggered");
        if (!Files.isRegularFile(Path.of(JAR))) {
            throw new IllegalStateException(JAR + " is missing: build with mvn -B -q -pl bench -am package -DskipTests");
        }
        System.out.println("session arrivals: " + arrivals);
        System.out.println("| sessions | ms/token | relayed tok/s | errors | TTFT direct p50/p99 ms | TTFT sidecar p50/p99 ms | added p50/p99 ms | sidecar RSS MiB | CPU s per M tokens | bench CPU s per M tokens |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        try (FakeOllama upstream = FakeOllama.start("llama3.2:latest").recording(false)) {
            int scenarioCount = 0; // every scenario starts its own conversations
            for (int delay : delays) {
                List<String> reply = new ArrayList<>();
                for (int i = 0; i < tokens; i++) {
                    reply.add(" tok" + i);
                }
                // one sidecar per upstream speed, warmed up (JIT, pools) before anything is measured
                try (Sidecar sidecar = Sidecar.start(upstream.baseUri())) {
                    warmUp(upstream, sidecar, reply, delay);
                    upstream.reply(FakeOllama.Reply.tokens(reply).tokenDelay(Duration.ofMillis(delay)));
                    for (int n : sessions) {
                        Scenario s = new Scenario(n, delay, turns, tokens, staggered, "bench-" + (++scenarioCount) + "-");
                        Outcome direct = direct(upstream.baseUri(), s);
                        long cpuBefore = sidecar.cpuNanos();
                        Map<String, Long> threadsBefore = cpuByThreadKind(sidecar.process.pid());
                        long benchCpuBefore = benchCpuNanos();
                        Outcome via = viaWebSocket(sidecar.port, s);
                        long cpu = sidecar.cpuNanos() - cpuBefore;
                        Map<String, Long> threadsAfter = cpuByThreadKind(sidecar.process.pid());
                        long benchCpu = benchCpuNanos() - benchCpuBefore;
                        System.out.printf("| %d | %d | %.0f | %d | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.0f | %.2f | %.2f |%n",
                                n, delay, via.tokens / via.seconds, via.errors, direct.p(0.5), direct.p(0.99),
                                via.p(0.5), via.p(0.99), via.p(0.5) - direct.p(0.5), via.p(0.99) - direct.p(0.99),
                                sidecar.rssKiB() / 1024.0, via.tokens == 0 ? Double.NaN : cpu / 1e9 / (via.tokens / 1e6),
                                via.tokens == 0 ? Double.NaN : benchCpu / 1e9 / (via.tokens / 1e6));
                        StringBuilder split = new StringBuilder("  sidecar CPU s per M tokens by thread kind:");
                        threadsAfter.forEach((kind, after) -> split.append(String.format(" %s %.2f", kind,
                                (after - threadsBefore.getOrDefault(kind, 0L)) / 1e9 / (via.tokens / 1e6))));
                        System.err.println(split);
                    }
                }
            }
        }
    }

    /**
     * Warms both JVMs up until their JIT compilers have settled: C2 keeps compiling the relay's paths for about a
     * million tokens on this machine, and measuring before then measures the compiler. Rounds of 200 sessions at
     * full speed first (quick to run) until compiler threads take under 5% of a round's CPU, then, for a paced
     * upstream, shorter rounds at that pace, whose timer and wake-up paths full speed never takes, until under 1%.
     */
    private static void warmUp(FakeOllama upstream, Sidecar sidecar, List<String> reply, int delayMs) throws Exception {
        upstream.reply(FakeOllama.Reply.tokens(reply));
        warmUpPhase(upstream, sidecar, new Scenario(200, 0, 10, reply.size(), false, "warmup-"), 3, 40, 0.05);
        if (delayMs > 0) {
            upstream.reply(FakeOllama.Reply.tokens(reply).tokenDelay(Duration.ofMillis(delayMs)));
            warmUpPhase(upstream, sidecar, new Scenario(200, delayMs, 4, reply.size(), true, "warmup-paced-"), 3, 20, 0.01);
        }
    }

    private static void warmUpPhase(FakeOllama upstream, Sidecar sidecar, Scenario round, int minRounds, int maxRounds,
            double settledShare) throws Exception {
        long started = System.nanoTime();
        double share = 1;
        int rounds = 0;
        while (rounds < maxRounds && (rounds < minRounds || share >= settledShare)) {
            Map<String, Long> before = cpuByThreadKind(sidecar.process.pid());
            cpuByThreadKind(ProcessHandle.current().pid()).forEach((k, v) -> before.merge(k, v, Long::sum));
            direct(upstream.baseUri(), round);
            viaWebSocket(sidecar.port, round);
            Map<String, Long> after = cpuByThreadKind(sidecar.process.pid());
            cpuByThreadKind(ProcessHandle.current().pid()).forEach((k, v) -> after.merge(k, v, Long::sum));
            long total = 0;
            long jit = 0;
            for (var e : after.entrySet()) {
                long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                total += d;
                if (e.getKey().equals("jit")) {
                    jit += d;
                }
            }
            share = total == 0 ? 1 : (double) jit / total;
            rounds++;
        }
        System.err.printf("  warm-up: %d rounds of %d sessions x %d turns at %d ms/token in %.0f s; JIT share of CPU in the last: %.1f%%%n",
                rounds, round.sessions, round.turns, round.delayMs, (System.nanoTime() - started) / 1e9, share * 100);
    }

    /**
     * CPU time of this JVM: the load generator (WebSocket clients) and the fake upstream, which share the machine
     * with the sidecar; shows how much of it they take.
     */
    private static long benchCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The baseline: the same sessions calling the upstream's streaming /api/chat directly, one connection each. */
    private static Outcome direct(URI upstream, Scenario s) throws Exception {
        ConcurrentLinkedQueue<Long> ttft = new ConcurrentLinkedQueue<>();
        AtomicLong tokens = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        runSessions(s, session -> {
            try (LeanChatClient client = LeanChatClient.connect(upstream, 30_000)) {
                for (int t = 0; t < s.turns; t++) {
                    String body = "{\"model\":\"llama3.2:latest\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello "
                            + session + "\"}]}";
                    long t0 = System.nanoTime();
                    LeanChatClient.Reply reply = client.chat(body);
                    tokens.addAndGet(reply.tokens());
                    if (reply.tokens() > 0) {
                        ttft.add(reply.firstTokenNanos() - t0);
                    }
                }
            } catch (IOException e) {
                errors.incrementAndGet();
            }
        });
        return new Outcome(tokens.get(), (int) errors.get(), (System.nanoTime() - start) / 1e9,
                ttft.stream().mapToLong(Long::longValue).toArray());
    }

    private static final byte[] TOKEN_FRAME = "{\"type\":\"token\"".getBytes(StandardCharsets.US_ASCII);

    /** Each session: one WebSocket, {@code turns} turns in a row, each read to its done frame. */
    private static Outcome viaWebSocket(int port, Scenario s) throws Exception {
        ConcurrentLinkedQueue<Long> ttft = new ConcurrentLinkedQueue<>();
        AtomicLong tokens = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        runSessions(s, session -> {
            try (LeanWebSocket ws = LeanWebSocket.connect("127.0.0.1", port, "/ws/chat", 60_000)) {
                for (int t = 0; t < s.turns; t++) {
                    long t0 = System.nanoTime();
                    ws.sendText("{\"agent_id\":\"planner\",\"conversation_id\":\"" + s.conversationPrefix + session
                            + "\",\"user_message\":\"hello " + t + "\"}");
                    long first = 0;
                    String end = null;
                    while (end == null) {
                        int op = ws.next();
                        if (op == LeanWebSocket.TEXT && ws.startsWith(TOKEN_FRAME)) {
                            // the server writes "type" first; token frames are counted, not parsed
                            if (first == 0) {
                                first = System.nanoTime();
                            }
                            tokens.incrementAndGet();
                        } else if (op == LeanWebSocket.TEXT) {
                            JsonObject json = JSON.createReader(new StringReader(ws.text())).readObject();
                            end = json.getString("type", "").equals("done") ? "done" : "error: " + ws.text();
                        } else {
                            end = "unexpected frame " + op + ": " + ws.text();
                        }
                    }
                    if (!end.equals("done") || first == 0) {
                        System.err.println("  session " + session + " turn " + t + ": " + end);
                        errors.incrementAndGet();
                        return;
                    }
                    ttft.add(first - t0);
                }
            } catch (IOException e) {
                System.err.println("  session " + session + ": " + e);
                errors.incrementAndGet();
            }
        });
        return new Outcome(tokens.get(), (int) errors.get(), (System.nanoTime() - start) / 1e9,
                ttft.stream().mapToLong(Long::longValue).toArray());
    }

    private interface Session {
        void run(int index) throws Exception;
    }

    private static void runSessions(Scenario s, Session body) throws InterruptedException {
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < s.sessions; i++) {
                int index = i;
                exec.submit(() -> {
                    Thread.sleep(Duration.ofNanos(s.startOffsetNanos(index))); // load shaping, not synchronisation
                    body.run(index);
                    return null;
                });
            }
        }
    }

    /** The sidecar as users run it: the built jar in its own JVM. */
    private static final class Sidecar implements AutoCloseable {
        final Process process;
        final int port;
        final Path dataDir;

        private Sidecar(Process process, int port, Path dataDir) {
            this.process = process;
            this.port = port;
            this.dataDir = dataDir;
        }

        static Sidecar start(URI upstream) throws Exception {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path data = Files.createTempDirectory("ws-bench");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector"));
            // e.g. BENCH_SIDECAR_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/sidecar.jfr to profile the sidecar
            String extra = System.getenv().getOrDefault("BENCH_SIDECAR_JAVA_OPTS", "").trim();
            if (!extra.isEmpty()) {
                command.addAll(List.of(extra.split("\\s+")));
            }
            command.addAll(List.of("-jar", JAR, "--host", "127.0.0.1", "--port", Integer.toString(port)));
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().put("STREAMING_LLM_MODEL", "llama3.2:latest");
            pb.environment().put("STREAMING_LLM_OLLAMA_URL", upstream.toString());
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
                        throw new IllegalStateException("sidecar did not start: " + Files.readString(data.resolve("sidecar.out")));
                    }
                    TimeUnit.MILLISECONDS.sleep(50); // polling a child process's start-up, not synchronising threads
                }
            }
            return new Sidecar(p, port, data);
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
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
            }
        }
    }

    /** CPU time of a process's live threads, grouped: JIT compilers ({@code jit}), GC ({@code gc}), the rest. */
    private static Map<String, Long> cpuByThreadKind(long pid) throws IOException {
        Map<String, Long> kinds = new java.util.TreeMap<>();
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

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    private WsBench() {
    }
}
