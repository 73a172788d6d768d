package io.streamingllm.core.log;

import io.streamingllm.core.OffCarrier;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The conversations' write channels, at most {@code maxOpenFiles} open: opening another closes an idle one chosen
 * by a clock (second chance for recently used ones). Closing a channel loses nothing: the checkpoint forces a
 * closed file through a fresh descriptor. Thread-safe: the open set is guarded by one lock, never held while
 * waiting for a conversation's lock.
 */
final class WriteChannels {
    private final LogLayout layout;
    private final TailRepair repair;
    private final int maxOpenFiles;
    private final SpareFiles spares;
    private final ReentrantLock lock = new ReentrantLock();
    /** Conversations with an open write channel, in clock order. Guarded by lock. */
    private final ArrayDeque<ConversationFile> open = new ArrayDeque<>();
    private boolean closed; // guarded by lock

    WriteChannels(LogLayout layout, TailRepair repair, int maxOpenFiles, SpareFiles spares) {
        this.layout = layout;
        this.repair = repair;
        this.maxOpenFiles = maxOpenFiles;
        this.spares = spares;
    }

    /**
     * The conversation's write channel, opened as needed: the file's tail is checked first (once), the channel
     * admitted to the open set, and {@code c.end} set to the end of the file. The caller holds c's lock.
     */
    FileChannel writable(ConversationFile c) throws IOException {
        FileChannel ch = c.channel;
        if (ch != null) {
            if (ch.isOpen()) {
                c.referenced = true;
                return ch;
            }
            release(c);
        }
        if (!c.checked) {
            repair.repair(c.id);
            c.checked = true;
            c.end = -1;
        }
        admit(c);
        try {
            Path file = layout.file(c.id);
            ch = OffCarrier.call(() -> {
                if (!Files.exists(file)) { // notExists learns it from a NoSuchFileException, a stack trace per new conversation
                    spares.claim(file); // a new conversation: a spare renamed into place, no inode made now
                }
                return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            }, ChannelIo::closeQuietly);
            long size = ch.size();
            if (c.end >= 0 && size > c.end) {
                ch.truncate(c.end); // what a failed attempt wrote past the end
            } else {
                c.end = size;
            }
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ChannelIo.closeQuietly(ch);
            }
            release(c);
            throw e;
        }
        c.channel = ch;
        return ch;
    }

    /** Makes room in the open set (closing an idle channel not used since the clock last passed) and adds c. */
    private void admit(ConversationFile c) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("event log " + layout.dir() + " is closed");
            }
            int passed = 0;
            while (open.size() >= maxOpenFiles) {
                ConversationFile victim = open.pollFirst();
                // a busy victim (its writer holds the lock) is passed over, never waited for: that writer may be
                // waiting for this lock itself
                if (victim.referenced || !victim.lock.tryLock()) {
                    victim.referenced = false;
                    open.addLast(victim);
                    if (++passed > 2 * maxOpenFiles) {
                        lock.unlock(); // every channel busy: let their writers finish
                        Thread.yield();
                        lock.lock();
                        passed = 0;
                    }
                    continue;
                }
                try {
                    FileChannel ch = victim.channel;
                    victim.channel = null;
                    victim.end = -1;
                    if (ch != null) {
                        ChannelIo.closeQuietly(ch); // unforced is fine: the checkpoint forces through a new descriptor
                    }
                } finally {
                    victim.lock.unlock();
                }
            }
            open.addLast(c);
        } finally {
            lock.unlock();
        }
    }

    /** Closes the conversation's channel and drops it from the open set. The caller holds c's lock. */
    void release(ConversationFile c) {
        FileChannel ch = c.channel;
        c.channel = null;
        lock.lock();
        try {
            open.remove(c);
        } finally {
            lock.unlock();
        }
        if (ch != null) {
            ChannelIo.closeQuietly(ch);
        }
    }

    /** Closes every channel and admits none after (on close, after the journal's last checkpoint). */
    void closeAll() {
        lock.lock();
        try {
            closed = true;
            for (ConversationFile c : open) {
                FileChannel ch = c.channel;
                c.channel = null;
                if (ch != null) {
                    ChannelIo.closeQuietly(ch);
                }
            }
            open.clear();
        } finally {
            lock.unlock();
        }
    }
}
