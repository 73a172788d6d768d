package io.streamingllm.core;

import java.io.IOException;
import java.nio.file.Path;

/** A child process that holds a directory's lock until its standard input closes or it is killed (tests). */
public final class LockHolder {
    private LockHolder() {
    }

    public static void main(String[] args) throws IOException {
        try (DirectoryLock lock = DirectoryLock.acquire(Path.of(args[0]), "data directory")) {
            System.out.println("locked " + lock.dir());
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold it
            }
        }
    }
}
