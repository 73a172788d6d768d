package io.streamingllm.core.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The event log's write path (group commit): an appender queues its lines on its conversation and takes the
 * conversation's lock; whoever holds it writes every queued line at the end of the file with one write (page cache
 * only) and queues one journal record of them, so 64 appenders of one conversation cost a few writes, not 64
 * writes handed from one to the next. Lines never interleave, different conversations write in parallel, and a
 * conversation's records are in the order of its file.
 *
 * <p>A write that fails (disk full, read-only, I/O error) is cut back and retried while {@link WriteFaults}
 * allows, holding the conversation's lock; lines that will not be acknowledged never stay in the file
 * ({@link LineRollback}).
 *
 * <p>Thread-safe: a conversation's writes are serialised by its {@link ConversationFile#lock}.
 */
final class AppendWriter {
    private final LogLayout layout;
    private final WriteChannels channels;
    private final LineRollback rollback;
    private final WriteFaults faults;
    private Journal journal; // set once, before the first write
    private volatile boolean closed;

    AppendWriter(LogLayout layout, WriteChannels channels, LineRollback rollback, WriteFaults faults) {
        this.layout = layout;
        this.channels = channels;
        this.rollback = rollback;
        this.faults = faults;
    }

    void journal(Journal j) {
        this.journal = j;
    }

    void close() {
        closed = true;
    }

    /**
     * Queues {@code bytes} for the end of the conversation's file and takes the conversation's lock; whoever holds
     * it writes every queued line and journals them. Returns the durability of this appender's lines.
     */
    CompletableFuture<Void> write(ConversationFile c, byte[] bytes) {
        ConversationFile.Write own = new ConversationFile.Write(bytes);
        c.queued.add(own);
        // an interrupt would close the shared channel under a write (ClosedByInterruptException): the write
        // and any undo run with the status cleared, and it is restored after
        boolean[] interrupted = {Thread.interrupted()};
        c.lock.lock();
        try {
            if (!own.taken) {
                writeQueued(c, interrupted);
            }
        } finally {
            c.lock.unlock();
            if (interrupted[0]) {
                Thread.currentThread().interrupt();
            }
        }
        if (own.failure != null) {
            throw own.failure;
        }
        return own.durable;
    }

    /** Writes every queued line of the conversation at the end of its file and journals them. Holds c.lock. */
    private void writeQueued(ConversationFile c, boolean[] interrupted) {
        List<ConversationFile.Write> group = new ArrayList<>();
        int length = 0;
        for (ConversationFile.Write w; (w = c.queued.poll()) != null; ) {
            w.taken = true;
            group.add(w);
            length += w.bytes.length;
        }
        if (group.isEmpty()) {
            return;
        }
        byte[] bytes;
        if (group.size() == 1) {
            bytes = group.get(0).bytes;
        } else {
            bytes = new byte[length];
            int at = 0;
            for (ConversationFile.Write w : group) {
                System.arraycopy(w.bytes, 0, bytes, at, w.bytes.length);
                at += w.bytes.length;
            }
        }
        CompletableFuture<Void> durable = null;
        RuntimeException failure = null;
        try {
            durable = writeAndJournal(c, bytes, interrupted);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ConversationFile.Write w : group) {
            w.durable = durable;
            w.failure = failure;
        }
    }

    private CompletableFuture<Void> writeAndJournal(ConversationFile c, byte[] bytes, boolean[] interrupted) {
        long offset = -1;
        int closedUnderWrite = 0;
        for (int attempt = 1; ; attempt++) {
            if (closed) {
                throw new IllegalStateException("event log " + layout.dir() + " is closed");
            }
            try {
                FileChannel ch = channels.writable(c);
                offset = c.end;
                ChannelIo.writeFully(ch, ByteBuffer.wrap(bytes), offset);
                c.end = offset + bytes.length;
                faults.ok(WriteFaults.Source.FILES);
                break;
            } catch (ClosedChannelException e) {
                // closed under the write by an interrupt: reopen (which cuts a partial write) and retry
                interrupted[0] |= Thread.interrupted();
                channels.release(c);
                if (++closedUnderWrite == 3) {
                    throw failed(c, offset, e);
                }
            } catch (IOException e) {
                // disk full, read-only, I/O error: take back what was written, wait and try again
                if (offset >= 0) {
                    rollback.cut(c, offset);
                    offset = -1;
                }
                faults.failed(WriteFaults.Source.FILES, "the event log cannot write " + layout.file(c.id)
                        + ": " + WriteFaults.reason(e));
                if (!faults.awaitRetry(WriteFaults.Source.FILES, attempt)) {
                    interrupted[0] |= Thread.interrupted();
                    throw failed(c, -1, e);
                }
            }
        }
        try {
            return journal.append(c.id, offset, bytes);
        } catch (UncheckedIOException e) {
            throw failed(c, offset, e.getCause()); // refused while the journal fails what it could not write
        } catch (RuntimeException e) {
            rollback.cut(c, offset);
            throw e;
        }
    }

    private LogWriteException failed(ConversationFile c, long offset, IOException e) {
        if (offset >= 0) {
            rollback.cut(c, offset);
        }
        return new LogWriteException("cannot append to log of conversation " + c.id + ": "
                + WriteFaults.reason(e), e);
    }
}
