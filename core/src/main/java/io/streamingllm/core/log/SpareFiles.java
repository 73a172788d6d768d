package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Empty files made ahead in {@code LOG_DIR/.spare/}, so that a new conversation's log is a rename rather than the
 * creation of an inode. Creating an inode can cost a millisecond of kernel CPU: on ext4 without a journal the
 * allocator skips every inode freed in the last 5-35 seconds one by one ({@code find_inode_bit},
 * {@code recently_deleted}), and a busy directory's creators spin on its lock. Measured on a 2-core machine
 * (perf, `scripts/bench.sh ws 200 20 3 32 lockstep`): 200 conversations started at once spent ~190 ms of CPU in
 * {@code ext4_create}, half of it spinning, while their first tokens waited for the carriers. A rename takes tens
 * of microseconds. One platform thread refills the pool in the background, where an inode's cost delays no turn.
 *
 * <p>Crash safety: a spare is renamed into place, never copied, so a conversation's file is never also a spare,
 * except after a crash that persisted the new name but not the removal of the old one; at start-up a spare that is
 * not an empty file with one link is deleted, never handed out.
 *
 * <p>Thread-safe: {@link #claim} from any thread; the caller holds the target conversation's lock.
 */
final class SpareFiles implements AutoCloseable {
    static final String DIR = ".spare";
    /** Covers a burst of new conversations as large as the open-file cap by default. */
    static final int DEFAULT_TARGET = EventLog.DEFAULT_MAX_OPEN_FILES;
    /**
     * The filler waits until claims have paused this long, so that a burst's own new conversations do not compete
     * with the refill for the CPU; below a quarter of the target it refills at once.
     */
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** How long the filler waits after a failure (disk full, read-only) before it tries again. */
    static final Duration DEFAULT_RETRY = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(SpareFiles.class.getName());

    private final Path dir;
    private final int target;
    private final Duration retry;
    private final ConcurrentLinkedQueue<Path> ready = new ConcurrentLinkedQueue<>();
    /** One permit per spare wanted; the filler takes one before it makes a file. */
    private final Semaphore wanted = new Semaphore(0);
    private final AtomicLong names = new AtomicLong();
    private final Thread filler;
    private volatile boolean closed;
    /** Whether the last try to make a spare failed. */
    private volatile boolean failing;
    private volatile long lastClaim = System.nanoTime() - QUIET_NANOS;

    /** Keeps the sound spares already in {@code logDir/.spare/} and starts filling up to {@code target}. */
    SpareFiles(Path logDir, int target) {
        this(logDir, target, DEFAULT_RETRY);
    }

    SpareFiles(Path logDir, int target, Duration retry) {
        this.dir = logDir.resolve(DIR);
        this.target = target;
        this.retry = retry;
        int kept = keepSoundSpares();
        wanted.release(Math.max(0, target - kept));
        this.filler = Thread.ofPlatform().daemon().name("log-spare-files").unstarted(this::fill);
        if (target > 0) {
            filler.start();
        }
    }

    /**
     * Renames a spare to {@code file}, which must not exist; false when no spare is ready (the caller creates the
     * file itself). Never replaces an existing file.
     */
    boolean claim(Path file) throws IOException {
        Path spare;
        while ((spare = ready.poll()) != null) {
            try {
                Files.move(spare, file); // without REPLACE_EXISTING: an existing target fails, it is never replaced
                lastClaim = System.nanoTime();
                wanted.release();
                return true;
            } catch (FileAlreadyExistsException e) {
                ready.add(spare);
                return false;
            } catch (IOException e) {
                if (e instanceof NoSuchFileException && !Files.exists(spare)) {
                    wanted.release(); // that spare was deleted behind our back: make another, try the next
                    continue;
                }
                ready.add(spare); // the target's side failed (its directory gone or refusing): the spare stays good
                throw e;
            }
        }
        return false;
    }

    /** Spares ready now (for tests and metrics). */
    int ready() {
        return ready.size();
    }

    /** Waits until the pool is full (tests). */
    synchronized void awaitFilled() throws InterruptedException {
        while (ready.size() < target) {
            wait();
        }
    }

    /** Waits until a try to make a spare has failed (tests). */
    synchronized void awaitFailing() throws InterruptedException {
        while (!failing) {
            wait();
        }
    }

    /** Stops the filler; the spares stay for the next open. */
    @Override
    public void close() {
        closed = true;
        filler.interrupt();
        try {
            filler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fill() {
        try {
            while (!closed) {
                wanted.acquire();
                awaitQuiet();
                Path spare = dir.resolve(Long.toString(names.incrementAndGet()));
                try {
                    Files.createDirectories(dir);
                    Files.createFile(spare);
                } catch (IOException | RuntimeException e) {
                    wanted.release();
                    if (e instanceof FileAlreadyExistsException && Files.isDirectory(dir) && Files.exists(spare)) {
                        continue; // a name kept from an earlier run: the next name then
                    }
                    // a full or read-only disk: new conversations create their files themselves meanwhile
                    if (!failing) {
                        LOG.log(System.Logger.Level.WARNING, "cannot make spare log files (new logs are created "
                                + "directly; trying again every " + retry.toMillis() + " ms): " + e);
                        synchronized (this) {
                            failing = true;
                            notifyAll(); // awaitFailing
                        }
                    }
                    awaitRetry();
                    continue;
                }
                if (failing) {
                    LOG.log(System.Logger.Level.INFO, "spare log files are made again");
                    failing = false;
                }
                ready.add(spare);
                synchronized (this) {
                    notifyAll(); // awaitFilled
                }
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    private void awaitRetry() throws InterruptedException {
        long until = System.nanoTime() + retry.toNanos();
        long wait;
        while ((wait = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(this, wait);
            if (closed) {
                throw new InterruptedException("closing");
            }
        }
    }

    private void awaitQuiet() throws InterruptedException {
        long wait;
        while (ready.size() >= target / 4 && (wait = lastClaim + QUIET_NANOS - System.nanoTime()) > 0) {
            LockSupport.parkNanos(this, wait);
            if (closed) {
                throw new InterruptedException("closing");
            }
        }
    }

    private int keepSoundSpares() {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int kept = 0;
        long highest = 0;
        try (DirectoryStream<Path> spares = Files.newDirectoryStream(dir)) {
            for (Path spare : spares) {
                try {
                    long name = Long.parseLong(spare.getFileName().toString());
                    if (Files.isRegularFile(spare) && Files.size(spare) == 0
                            && ((Number) Files.getAttribute(spare, "unix:nlink")).intValue() == 1) {
                        ready.add(spare);
                        kept++;
                        highest = Math.max(highest, name);
                        continue;
                    }
                } catch (UnsupportedOperationException | IllegalArgumentException e) {
                    // a name that is not a number, or no link count to check: not handed out
                }
                if (!Files.isDirectory(spare)) {
                    Files.deleteIfExists(spare);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "spare log files in " + dir + " not reused: " + e);
            ready.clear();
            return 0;
        }
        names.set(highest);
        return kept;
    }
}
