package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * System calls per turn of each relay path's sidecar: the WebSocket + Ollama path and the /v1 + OpenAI one, each on a
 * sidecar of its own warmed up as {@code scripts/bench.sh ws} does, then {@code sessions} x {@code turns} turns at
 * full speed counted by {@code perf stat} on the kernel's system-call tracepoints, twice. Counts do not depend on how
 * busy a shared machine is, where times do; on a VM whose system calls are dear (a PVM guest here), they are what the
 * per-token CPU follows. Needs {@code perf} with access to the tracepoints (root, or {@code perf_event_paranoid} low).
 *
 * <pre>scripts/bench.sh syscalls [sessions, 50] [turns, 20] [tokens per reply, 32]</pre>
 */
public final class SyscallBench {
    static final List<String> CALLS = List.of("write", "read", "futex", "epoll_wait", "epoll_ctl", "fdatasync", "pwrite64");
    private static final int REPEATS = 2;

    public static void main(String[] args) throws Exception {
        int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int turns = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        BenchSidecar.requireJar();
        requirePerf();
        System.out.printf("System calls per turn, %d sessions x %d turns of %d tokens at 0 ms/token, %d runs per path%n%n",
                sessions, turns, tokens, REPEATS);
        System.out.println("| path | run | all | " + String.join(" | ", CALLS) + " |");
        System.out.println("|---|---|---|" + "---|".repeat(CALLS.size()));
        try (RelayPath ws = new OllamaWsPath(); RelayPath v1 = new OpenAiV1Path()) {
            for (RelayPath path : List.of(ws, v1)) {
                try (BenchSidecar sidecar = BenchSidecar.start(path.sidecarEnv())) {
                    WarmUp.run(path, sidecar, WsBench.reply(tokens), 0);
                    for (int run = 1; run <= REPEATS; run++) {
                        Scenario s = new Scenario(sessions, 0, turns, tokens, false, "syscalls-" + run + "-");
                        Map<String, Long> counts = counted(sidecar, () -> path.via(sidecar.port, s));
                        double all = (double) sessions * turns;
                        StringBuilder row = new StringBuilder("| " + path.name() + " | " + run + " | "
                                + String.format("%.2f", counts.get("raw_syscalls:sys_enter") / all) + " |");
                        for (String call : CALLS) {
                            row.append(String.format(" %.2f |", counts.get("syscalls:sys_enter_" + call) / all));
                        }
                        System.out.println(row);
                    }
                }
            }
        }
    }

    /** The sidecar's system calls while {@code run} runs, by tracepoint. */
    private static Map<String, Long> counted(BenchSidecar sidecar, Callable<Outcome> run) throws Exception {
        Path out = Files.createTempFile("syscalls", ".txt");
        StringBuilder events = new StringBuilder("raw_syscalls:sys_enter");
        for (String call : CALLS) {
            events.append(",syscalls:sys_enter_").append(call);
        }
        Process perf = new ProcessBuilder("perf", "stat", "-x", ",", "-e", events.toString(),
                "-p", Long.toString(sidecar.process.pid()), "-o", out.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        awaitAttached(perf, CALLS.size() + 1);
        Outcome o = run.call();
        if (o.errors() > 0) {
            throw new IllegalStateException(o.errors() + " turns failed");
        }
        new ProcessBuilder("kill", "-INT", Long.toString(perf.pid())).start().waitFor();
        perf.waitFor();
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out)) {
            String[] f = line.split(",");
            if (f.length > 2 && f[0].matches("\\d+")) {
                counts.put(f[2], Long.parseLong(f[0]));
            }
        }
        Files.delete(out);
        if (counts.size() != CALLS.size() + 1) {
            throw new IllegalStateException("perf stat counted " + counts.keySet() + "; are the syscall tracepoints readable?");
        }
        return counts;
    }

    /**
     * Waits until perf has opened its events on the sidecar's threads: its perf_event descriptors, counted in /proc,
     * are at least one an event and stop growing.
     */
    private static void awaitAttached(Process perf, int events) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int last = -1;
        while (true) {
            int open = perfEventDescriptors(perf.pid());
            if (open >= events && open == last) {
                return;
            }
            if (!perf.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("perf stat did not attach (" + open + " events open)");
            }
            last = open;
            Thread.sleep(20); // polling a child process's start-up, not synchronising threads
        }
    }

    private static int perfEventDescriptors(long pid) throws IOException {
        int n = 0;
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().contains("perf_event")) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // not one of perf's
                }
            }
        }
        return n;
    }

    private static void requirePerf() throws InterruptedException {
        try {
            if (new ProcessBuilder("perf", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0) {
                return;
            }
        } catch (IOException missing) {
            // reported below
        }
        System.err.println("syscalls: needs perf (Debian: apt-get install linux-perf)");
        System.exit(2);
    }

    private SyscallBench() {
    }
}
