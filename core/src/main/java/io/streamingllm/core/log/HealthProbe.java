package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The log's health ({@link EventLog#health}), found out again while it is failing: a failing log gets no appends
 * (turns are refused up front), so something has to try. At most once a second, one caller at a time writes and
 * forces {@value #PROBE_BYTES} bytes in {@code LOG_DIR/.probe} (then deletes it) when the files were failing, and
 * has the committer check the journal ({@link Journal#probe}) when it was. A healthy log costs two volatile reads.
 * Thread-safe.
 */
final class HealthProbe {
    static final String FILE_NAME = ".probe";
    private static final int PROBE_BYTES = 64 * 1024;
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long JOURNAL_WAIT_MS = 2_000;

    private final LogLayout layout;
    private final WriteFaults faults;
    private final Journal journal;
    private final AtomicBoolean probing = new AtomicBoolean();
    private volatile long lastProbe = System.nanoTime() - INTERVAL_NANOS;

    HealthProbe(LogLayout layout, WriteFaults faults, Journal journal) {
        this.layout = layout;
        this.faults = faults;
        this.journal = journal;
    }

    LogHealth health() {
        LogHealth h = faults.health();
        if (h.writable() || System.nanoTime() - lastProbe < INTERVAL_NANOS || !probing.compareAndSet(false, true)) {
            return h;
        }
        try {
            if (faults.failing(WriteFaults.Source.FILES)) {
                probeFiles();
            }
            if (faults.failing(WriteFaults.Source.JOURNAL)) {
                probeJournal();
            }
        } finally {
            lastProbe = System.nanoTime();
            probing.set(false);
        }
        return faults.health();
    }

    private void probeFiles() {
        Path probe = layout.dir().resolve(FILE_NAME);
        try {
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ChannelIo.writeFully(ch, ByteBuffer.allocate(PROBE_BYTES), 0);
                ch.force(false);
            } finally {
                Files.deleteIfExists(probe);
            }
            faults.ok(WriteFaults.Source.FILES);
        } catch (IOException e) {
            faults.failed(WriteFaults.Source.FILES, "the event log cannot write in " + layout.dir() + ": "
                    + WriteFaults.reason(e));
        }
    }

    private void probeJournal() {
        try {
            journal.probe().get(JOURNAL_WAIT_MS, TimeUnit.MILLISECONDS); // the committer records the outcome
        } catch (ExecutionException | TimeoutException e) {
            // the committer is busy retrying, or the probe failed: the faults say why
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
