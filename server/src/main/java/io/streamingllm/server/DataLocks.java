package io.streamingllm.server;

import io.streamingllm.core.DirectoryLock;
import io.streamingllm.core.config.SidecarConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The locks a running sidecar holds on its durable state ({@link DirectoryLock}): {@code DATA_DIR} (which holds
 * the archive, and the logs and summaries by default), and {@code SUMMARY_DIR} when it lies elsewhere. The event
 * log locks {@code LOG_DIR} itself as it opens, so a directory that is also the log directory is left to it. The
 * agents directory is not locked: agents are configuration, written whole by atomic rename, and may be shared.
 * Taken before anything in those directories is touched, released after the log is closed. Thread-safe.
 */
final class DataLocks implements AutoCloseable {
    private final List<DirectoryLock> held;

    private DataLocks(List<DirectoryLock> held) {
        this.held = held;
    }

    /** Locks the data directories or throws {@code DirectoryLockException} (holding none). */
    static DataLocks acquire(SidecarConfig config) {
        List<DirectoryLock> held = new ArrayList<>();
        try {
            lock(held, config.dataDir(), "data directory", config);
            if (!config.summaryDir().startsWith(config.dataDir())) {
                lock(held, config.summaryDir(), "summary directory", config);
            }
        } catch (RuntimeException e) {
            held.forEach(DirectoryLock::close);
            throw e;
        }
        return new DataLocks(List.copyOf(held));
    }

    private static void lock(List<DirectoryLock> held, Path dir, String what, SidecarConfig config) {
        if (!dir.equals(config.logDir())) {
            held.add(DirectoryLock.acquire(dir, what));
        }
    }

    @Override
    public void close() {
        held.forEach(DirectoryLock::close);
    }
}
