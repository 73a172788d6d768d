package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The checkpoint of a full journal segment: forces the conversation files its records wrote to, then their
 * directory (names of new files), so that the segment can go. Runs on the journal's checkpointer thread, which
 * it blocks until every file is forced; it takes no conversation's lock.
 */
final class FileCheckpoint implements Journal.Checkpoint {
    /**
     * Forces at once (on virtual threads, for one checkpoint only): the file system folds concurrent fsyncs into
     * one commit, so 10,000 files take about as long as a few hundred.
     */
    private static final int LANES = 16;

    private final LogLayout layout;
    private final Map<String, ConversationFile> conversations;

    /** {@code conversations}: the log's live map, whose open channels are forced without reopening the file. */
    FileCheckpoint(LogLayout layout, Map<String, ConversationFile> conversations) {
        this.layout = layout;
        this.conversations = conversations;
    }

    @Override
    public void force(Set<String> ids) throws IOException {
        List<String> files = new ArrayList<>(ids);
        AtomicInteger next = new AtomicInteger();
        Callable<Void> lane = () -> {
            for (int i; (i = next.getAndIncrement()) < files.size(); ) {
                forceFile(files.get(i));
            }
            return null;
        };
        int lanes = Math.min(LANES, files.size());
        // platform threads: opening a file is a system call a virtual thread would hold its carrier in
        try (ExecutorService executor = Executors.newThreadPerTaskExecutor(
                Thread.ofPlatform().daemon().name("event-log-checkpoint-lane").factory())) {
            List<Future<Void>> running = new ArrayList<>();
            for (int l = 0; l < lanes; l++) {
                running.add(executor.submit(lane));
            }
            for (Future<Void> f : running) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("checkpoint interrupted", e);
                }
            }
        }
        AtomicFiles.syncDirectory(layout.dir());
    }

    private void forceFile(String id) throws IOException {
        ConversationFile c = conversations.get(id);
        FileChannel ch = c == null ? null : c.channel;
        if (ch != null) {
            try {
                ch.force(false);
                return;
            } catch (ClosedChannelException e) {
                // evicted meanwhile: force through a new descriptor (fsync covers the whole file)
            }
        }
        try (FileChannel f = FileChannel.open(layout.file(id), StandardOpenOption.WRITE)) {
            f.force(false);
        } catch (NoSuchFileException e) {
            // archived meanwhile: archive forces the file before moving it
        }
    }
}
