package io.streamingllm.core.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs mounted on a test directory: a real file system that runs out of space or turns read-only when the
 * test says so. Needs root (tests run as root here and on CI); a mount that fails fails the test, it never skips.
 * Close it to unmount.
 */
public final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created as needed). */
    public static Tmpfs mount(Path dir, long bytes) throws IOException {
        Files.createDirectories(dir);
        run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString());
        return new Tmpfs(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Grows or shrinks the file system (what is written stays). */
    public void resize(long bytes) throws IOException {
        run("mount", "-o", "remount,size=" + bytes, dir.toString());
    }

    public void readOnly() throws IOException {
        run("mount", "-o", "remount,ro", dir.toString());
    }

    public void writable() throws IOException {
        run("mount", "-o", "remount,rw", dir.toString());
    }

    /** Bytes still usable. */
    public long usable() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    /** Writes a file until the file system is full; returns it (delete it to give the space back). */
    public Path fill() throws IOException {
        Path filler = dir.resolve("filler-" + System.nanoTime());
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            if (usable() > 0) {
                // the last pages: byte by byte would be slow, a page at a time is exact enough for tmpfs
                try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.APPEND)) {
                    byte[] page = new byte[4096];
                    while (true) {
                        out.write(page);
                        out.flush();
                    }
                } catch (IOException ignored) {
                    // full now
                }
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException {
        run("umount", "-l", dir.toString());
    }

    private static void run(String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", cmd), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out
                    + " (these tests mount a tmpfs and need root, as on CI)");
        }
    }
}
