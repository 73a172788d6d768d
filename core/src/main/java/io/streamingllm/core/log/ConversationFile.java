package io.streamingllm.core.log;

import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What this instance knows of one conversation's live log. Shared: {@link #lock} guards the file's writes and the
 * plain fields; {@link #queued}, {@link #channel} and {@link #referenced} are read without it.
 */
final class ConversationFile {
    final String id;
    final ReentrantLock lock = new ReentrantLock();
    /** Lines waiting for the next holder of {@link #lock} to write them. */
    final ConcurrentLinkedQueue<Write> queued = new ConcurrentLinkedQueue<>();
    /** Written holding {@link #lock}; the checkpoint reads it without. */
    volatile FileChannel channel;
    /** Used since the eviction clock last passed; spares it once. */
    volatile boolean referenced;
    /** End of the file as this instance wrote it, -1 when not known. Guarded by lock. */
    long end = -1;
    /** The file's tail was checked for a torn line. Guarded by lock. */
    boolean checked;

    ConversationFile(String id) {
        this.id = id;
    }

    /** One appender's lines, waiting in {@link #queued} until a holder of the lock writes them. */
    static final class Write {
        final byte[] bytes;
        // set by the writer of the group, read by the appender after it holds the lock itself
        boolean taken;
        CompletableFuture<Void> durable;
        RuntimeException failure;

        Write(byte[] bytes) {
            this.bytes = bytes;
        }
    }
}
