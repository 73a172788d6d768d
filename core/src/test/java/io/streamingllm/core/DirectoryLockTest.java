package io.streamingllm.core;

import io.streamingllm.core.testing.Tmpfs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One owner per directory, across processes and within one; the refusal names the holder. */
class DirectoryLockTest {
    @TempDir
    Path dir;

    private Process holder(Path locked) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
                locked.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Test
    void aSecondProcessIsRefusedWithTheHoldersPidAndAKilledHolderLeavesNoStaleLock() throws Exception {
        Path data = dir.resolve("data");
        Process other = holder(data);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked " + data, out.readLine());
            DirectoryLockException e = assertThrows(DirectoryLockException.class,
                    () -> DirectoryLock.acquire(data, "data directory"));
            assertTrue(e.getMessage().startsWith("data directory " + data + " is in use by another process (pid "
                    + other.pid() + ", started "), e.getMessage());
            assertTrue(e.getMessage().endsWith("): stop it, or give this one another directory"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        } finally {
            other.destroyForcibly(); // SIGKILL: no chance to clean up
            assertTrue(other.waitFor(30, TimeUnit.SECONDS));
        }
        try (DirectoryLock mine = DirectoryLock.acquire(data, "data directory")) {
            String line = Files.readString(data.resolve(DirectoryLock.FILE_NAME));
            assertTrue(line.startsWith("pid=" + ProcessHandle.current().pid() + " started="), line);
        }
    }

    @Test
    void withinOneProcessTheSecondOwnerIsRefusedUntilTheFirstLetsGo() {
        Path data = dir.resolve("data");
        DirectoryLock first = DirectoryLock.acquire(data, "data directory");
        DirectoryLockException e = assertThrows(DirectoryLockException.class,
                () -> DirectoryLock.acquire(data, "data directory"));
        assertEquals("data directory " + data + " is already in use by this process (pid "
                + ProcessHandle.current().pid() + ")", e.getMessage());
        first.close();
        DirectoryLock.acquire(data, "data directory").close();
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsRefusedWithTheReason() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        DirectoryLockException notADir = assertThrows(DirectoryLockException.class,
                () -> DirectoryLock.acquire(file.resolve("data"), "data directory"));
        assertTrue(notADir.getMessage().startsWith("data directory " + file.resolve("data") + " cannot be created: "),
                notADir.getMessage());

        try (Tmpfs fs = Tmpfs.mount(dir.resolve("ro"), 1 << 20)) {
            Path data = Files.createDirectories(fs.dir().resolve("data"));
            fs.readOnly();
            DirectoryLockException e = assertThrows(DirectoryLockException.class,
                    () -> DirectoryLock.acquire(data, "data directory"));
            assertEquals("data directory " + data + " is not writable: Read-only file system", e.getMessage());
        }
    }
}
