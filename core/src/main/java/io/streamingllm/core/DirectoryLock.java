package io.streamingllm.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An exclusive OS lock that marks a directory as owned by one running process, taken before anything in the
 * directory is touched, so that a second instance stops instead of mixing its writes with the first one's.
 *
 * <table>
 *   <caption>The lock file</caption>
 *   <tr><th>path</th><th>content</th></tr>
 *   <tr><td>{@code DIR/.streaming-llm.lock}</td><td>one line naming the holder, written after the lock is taken:
 *       {@code pid=1234 started=2026-01-31T12:00:00Z host=name}; advisory only, never read to decide
 *       anything but the message a refused instance prints</td></tr>
 * </table>
 *
 * The lock is {@link FileChannel#tryLock()} on that file (POSIX {@code fcntl} locks on Linux): the kernel drops it
 * when the process ends, however it ends, so a crash never leaves a stale lock. The file is never deleted, since
 * deleting a lock file races with the next instance opening it. Thread-safe: immutable once acquired.
 */
public final class DirectoryLock implements AutoCloseable {
    public static final String FILE_NAME = ".streaming-llm.lock";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if needed and locks it; {@code what} names it in messages ("data directory"). Throws
     * {@link DirectoryLockException} when another process (or another owner in this one) holds it, or when the
     * directory cannot be created or written.
     */
    public static DirectoryLock acquire(Path dir, String what) {
        Path d = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new DirectoryLockException(what + " " + d + " cannot be created: " + reason(e), e);
        }
        Path file = d.resolve(FILE_NAME);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new DirectoryLockException(what + " " + d + " is not writable: " + reason(e), e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            closeQuietly(ch);
            throw new DirectoryLockException(what + " " + d + " is already in use by this process (pid "
                    + ProcessHandle.current().pid() + ")", e);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new DirectoryLockException(what + " " + d + " cannot be locked: " + reason(e), e);
        }
        if (lock == null) {
            String holder = holder(ch);
            closeQuietly(ch);
            throw new DirectoryLockException(what + " " + d + " is in use by another process (" + holder
                    + "): stop it, or give this one another directory");
        }
        writeHolder(ch);
        return new DirectoryLock(d, ch, lock);
    }

    public Path dir() {
        return dir;
    }

    /** Releases the lock (the file stays). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel below releases it as well
        }
        closeQuietly(channel);
    }

    /** "pid 1234, started …, host …" from the holder's line, or what is known when it has not written it yet. */
    private static String holder(FileChannel ch) {
        String line;
        try {
            ByteBuffer buf = ByteBuffer.allocate(512);
            while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
                // read what is there, up to 512 bytes
            }
            line = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "holder unknown: " + reason(e);
        }
        if (line.isEmpty()) {
            return "holder unknown: it has not written its pid yet";
        }
        StringBuilder sb = new StringBuilder();
        for (String field : line.lines().findFirst().orElse("").split(" ")) {
            int eq = field.indexOf('=');
            if (eq > 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(field, 0, eq).append(' ').append(field.substring(eq + 1));
            }
        }
        return sb.isEmpty() ? "holder unknown" : sb.toString();
    }

    private static void writeHolder(FileChannel ch) {
        Instant started = ProcessHandle.current().info().startInstant().orElseGet(Instant::now);
        StringBuilder line = new StringBuilder("pid=").append(ProcessHandle.current().pid())
                .append(" started=").append(started.truncatedTo(ChronoUnit.SECONDS));
        String host = hostName();
        if (host != null) {
            line.append(" host=").append(host);
        }
        line.append('\n');
        try {
            ch.truncate(0);
            ByteBuffer buf = ByteBuffer.wrap(line.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf, buf.position());
            }
        } catch (IOException e) {
            // the holder line only improves a refused instance's message (a full disk may refuse it); the lock holds
        }
    }

    /** The kernel's host name (no DNS look-up, which may hang), else $HOSTNAME. */
    private static String hostName() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!name.isEmpty() && name.chars().noneMatch(c -> c <= ' ')) {
                return name;
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() || env.chars().anyMatch(c -> c <= ' ') ? null : env;
    }

    /** The OS's reason without the path Java prefixes to it ("/x/y: Read-only file system" → "Read-only file system"). */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written through it that matters
        }
    }
}
