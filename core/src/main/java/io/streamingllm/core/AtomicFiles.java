package io.streamingllm.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Whole-file writes through a temp file + atomic rename, and archive moves that never overwrite. */
public final class AtomicFiles {
    private static final DateTimeFormatter ARCHIVE_STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    private AtomicFiles() {
    }

    /**
     * Replaces {@code target} with {@code bytes}: temp file in the same directory, fsync, atomic rename,
     * fsync of the directory. Readers see the old or the new file, never a mix.
     */
    public static void write(Path target, byte[] bytes) {
        try {
            OffCarrier.run(() -> {
                writeHere(target, bytes);
                return null;
            });
        } catch (IOException e) { // only an interrupt while waiting: writeHere's own failures are unchecked
            throw new UncheckedIOException("interrupted while " + target + " was written (the write completes): "
                    + e.getMessage(), e);
        }
    }

    private static void writeHere(Path target, byte[] bytes) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray dot-temp file is ignored by every reader
                }
            }
        }
    }

    /** Makes a directory's entries (new, renamed, removed files) durable; a no-op where the OS cannot. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some platforms cannot open or fsync a directory; the rename itself is still atomic there
        }
    }

    /**
     * Moves {@code source} into {@code archiveDir} as {@code {id}.{UTC stamp}{suffix}} (a counter is added on a
     * collision), so an earlier archive of the same id is never overwritten. Returns the new path.
     */
    public static Path moveToArchive(Path source, Path archiveDir, String id, String suffix) throws IOException {
        Files.createDirectories(archiveDir);
        String stamp = ARCHIVE_STAMP.format(java.time.Instant.now());
        for (int attempt = 0; ; attempt++) {
            Path target = archiveDir.resolve(id + "." + stamp + (attempt == 0 ? "" : "-" + attempt) + suffix);
            boolean linked;
            try {
                // a hard link fails if the name exists, so an earlier archive is never clobbered
                Files.createLink(target, source);
                linked = true;
            } catch (FileAlreadyExistsException e) {
                continue;
            } catch (IOException | UnsupportedOperationException e) {
                linked = false; // no hard links here (other file system...)
            }
            if (linked) {
                Files.delete(source);
            } else {
                try {
                    Files.move(source, target); // no REPLACE_EXISTING: fails rather than overwrite
                } catch (FileAlreadyExistsException e) {
                    continue;
                }
            }
            syncDirectory(archiveDir);
            syncDirectory(source.toAbsolutePath().getParent());
            return target;
        }
    }
}
