package io.streamingllm.core.log;

import io.streamingllm.core.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Durable per-conversation JSONL event logs under one directory ({@code LOG_DIR/{conversation_id}.jsonl}; layout,
 * journal and durability contract in the package comment). {@link #append} returns only after the event is on
 * disk; concurrent appends share one fdatasync, whichever conversations they go to.
 *
 * <p>Group commit: an appender serialises its lines in its own thread and queues them on its conversation; holding
 * the conversation's lock, one appender writes every queued line at the end of the conversation's file (one write,
 * page cache only) and queues one journal record of them: lines never interleave, appends to different
 * conversations write in parallel, and a conversation's records are in the order of its file. The {@link Journal}
 * makes them durable.
 *
 * <p>Thread-safe: a conversation's writes are serialised by its {@link ConversationFile#lock}; readers take no lock
 * but the one-time tail check.
 */
public final class EventLog implements AutoCloseable {
    public static final int DEFAULT_MAX_OPEN_FILES = 256;

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final LogLayout layout;
    private final WriteChannels channels;
    private final TailRepair repair;
    private final LogQueries queries;
    private final Journal journal;
    private final LogArchiver archiver;
    private volatile boolean closed;
    /** Every conversation this instance touched; entries stay, so that one lock always guards one file. */
    private final ConcurrentHashMap<String, ConversationFile> conversations = new ConcurrentHashMap<>();

    public EventLog(Path logDir) {
        this(logDir, DEFAULT_MAX_OPEN_FILES);
    }

    public EventLog(Path logDir, int maxOpenFiles) {
        this(logDir, maxOpenFiles, Journal.DEFAULT_SEGMENT_SIZE);
    }

    /** With journal segments of {@code segmentSize} bytes (tests roll segments over quickly). */
    EventLog(Path logDir, int maxOpenFiles, long segmentSize) {
        if (maxOpenFiles < 1) {
            throw new IllegalArgumentException("maxOpenFiles must be at least 1, got " + maxOpenFiles);
        }
        if (segmentSize < 4096 || segmentSize > 1L << 30) {
            throw new IllegalArgumentException("journal segments must be 4 KiB to 1 GiB, got " + segmentSize);
        }
        this.layout = new LogLayout(logDir.toAbsolutePath().normalize());
        this.repair = new TailRepair(layout);
        this.channels = new WriteChannels(layout, repair, maxOpenFiles);
        this.queries = new LogQueries(layout);
        try {
            Files.createDirectories(layout.dir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + layout.dir() + ": " + e.getMessage(), e);
        }
        Path journalDir = layout.journalDir();
        long firstSeq;
        try {
            JournalRecovery.Recovered recovered = JournalRecovery.recover(journalDir);
            new JournalReplay(layout, repair).replay(recovered.records());
            JournalRecovery.discard(journalDir, recovered.segments());
            firstSeq = recovered.nextSeq();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replay the event log journal " + journalDir + ": " + e.getMessage(), e);
        }
        journal = new Journal(journalDir, segmentSize, firstSeq, new FileCheckpoint(layout, conversations));
        archiver = new LogArchiver(layout, channels, journal);
    }

    /** Called after each group commit with the nanoseconds its journal write and fdatasync took (for metrics). */
    public void onFsync(LongConsumer listener) {
        journal.onFsync(listener == null ? nanos -> { } : listener);
    }

    /** Appends one event durably (on disk before return). */
    public Event append(Event event) {
        appendAll(List.of(event));
        return event;
    }

    /** Appends events of one conversation durably, adjacent in the file, in order. */
    public List<Event> appendAll(List<Event> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        String conversationId = events.get(0).conversationId();
        StringBuilder lines = new StringBuilder(256 * events.size());
        for (Event e : events) {
            if (!e.conversationId().equals(conversationId)) {
                throw new IllegalArgumentException("appendAll takes events of one conversation; got "
                        + conversationId + " and " + e.conversationId());
            }
            lines.append(EventCodec.toLine(e)).append('\n');
        }
        CompletableFuture<Void> durable = write(conversationId, lines.toString().getBytes(StandardCharsets.UTF_8));
        try {
            durable.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new UncheckedIOException("cannot append to log of conversation " + conversationId + ": "
                        + io.getMessage(), io);
            }
            throw e;
        }
        return List.copyOf(events);
    }

    /** All events of a conversation, chronological, streamed from the file. Close the stream. */
    public Stream<Event> read(String conversationId) {
        Path file = layout.requireFile(conversationId);
        repairOnce(conversationId);
        return ForwardLines.events(file);
    }

    /** The last {@code limit} events of a conversation, chronological; read backwards from the end. */
    public List<Event> tail(String conversationId, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        Path file = layout.requireFile(conversationId);
        repairOnce(conversationId);
        if (limit == 0) {
            return List.of();
        }
        return BackwardLines.lastEvents(file, limit);
    }

    /**
     * Events at or after {@code instant} across conversations, chronological. Files are read one at a time
     * (files untouched since before {@code instant} are skipped); memory holds only the matching events.
     */
    public Stream<Event> since(Instant instant) {
        return queries.since(instant);
    }

    /**
     * Events of the given types (all when empty or null) and visibility (any when null), conversation by
     * conversation (ids sorted), each conversation's in order. Lazy: one file open at a time. Close the stream.
     */
    public Stream<Event> byType(Set<EventType> types, Visibility visibility) {
        return queries.byType(types, visibility);
    }

    /**
     * Ids of the conversations that have a live log, sorted. Only {@code {valid id}.jsonl} files count: the
     * journal directory ({@code .journal}, no id starts with a dot) and {@code .corrupt} files never do.
     */
    public List<String> conversationIds() {
        return queries.conversationIds();
    }

    public boolean exists(String conversationId) {
        return Files.isRegularFile(layout.requireFile(conversationId));
    }

    /**
     * Moves a conversation's log (and its {@code .corrupt} file, if any) into {@code archiveDir} as
     * {@code {id}.{UTC stamp}.jsonl}, never replacing an earlier archive; false if it had no log. The file is
     * forced and the journal told before it moves, so a replay never brings the archived lines back.
     */
    public boolean archive(String conversationId, Path archiveDir) {
        return archiver.archive(conversation(conversationId), archiveDir);
    }

    /** Commits queued appends, forces every file the journal covers, deletes the journal, closes every file. */
    @Override
    public void close() {
        closed = true;
        journal.close();
        channels.closeAll();
    }

    /** Stops like a crash: queued appends are committed to the journal, but nothing is checkpointed (tests). */
    void halt() {
        closed = true;
        journal.halt();
        channels.closeAll();
    }

    /** Waits until every full journal segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        journal.awaitCheckpoints();
    }

    /** Journal segments checkpointed so far (tests). */
    long checkpoints() {
        return journal.checkpoints();
    }

    // ---- group commit ---------------------------------------------------------------------------------------

    private ConversationFile conversation(String id) {
        ConversationFile c = conversations.get(id);
        if (c != null) {
            return c;
        }
        Ids.require("conversation", id);
        return conversations.computeIfAbsent(id, ConversationFile::new);
    }

    /**
     * Queues {@code bytes} for the end of the conversation's file and takes the conversation's lock; whoever holds
     * it writes every queued line with one write and queues one journal record for them (so 64 appenders of one
     * conversation cost a few writes, not 64 writes handed from one to the next). Returns the durability.
     */
    private CompletableFuture<Void> write(String id, byte[] bytes) {
        ConversationFile c = conversation(id);
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
        if (closed) {
            throw new IllegalStateException("event log " + layout.dir() + " is closed");
        }
        long offset = -1;
        for (int attempt = 1; ; attempt++) {
            try {
                FileChannel ch = channels.writable(c);
                offset = c.end;
                ChannelIo.writeFully(ch, ByteBuffer.wrap(bytes), offset);
                c.end = offset + bytes.length;
                break;
            } catch (ClosedChannelException e) {
                // closed under the write by an interrupt: reopen (which cuts a partial write) and retry
                interrupted[0] |= Thread.interrupted();
                channels.release(c);
                if (attempt == 3) {
                    throw failedWrite(c, offset, e);
                }
            } catch (IOException e) {
                throw failedWrite(c, offset, e);
            }
        }
        try {
            return journal.append(c.id, offset, bytes);
        } catch (RuntimeException e) {
            cut(c, offset);
            throw e;
        }
    }

    private UncheckedIOException failedWrite(ConversationFile c, long offset, IOException e) {
        if (offset >= 0) {
            cut(c, offset);
        }
        return new UncheckedIOException("cannot append to log of conversation " + c.id + ": " + e.getMessage(), e);
    }

    /** Undoes a write that will not be acknowledged: the file is cut back to {@code offset}. Holds c.lock. */
    private void cut(ConversationFile c, long offset) {
        try (FileChannel ch = FileChannel.open(layout.file(c.id), StandardOpenOption.WRITE)) {
            ch.truncate(offset);
            c.end = offset;
        } catch (IOException e) {
            channels.release(c);
            c.end = -1;
            c.checked = false; // the tail check on the next use moves any partial line aside
            LOG.log(System.Logger.Level.WARNING, "event log {0}: cannot cut an unacknowledged write: {1}", c.id,
                    e.getMessage());
        }
    }

    /** Checks the conversation's tail for a torn line the first time this instance touches it. */
    private void repairOnce(String id) {
        ConversationFile c = conversation(id);
        c.lock.lock();
        try {
            if (!c.checked) {
                repair.repair(id);
                c.checked = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check log of conversation " + id + ": " + e.getMessage(), e);
        } finally {
            c.lock.unlock();
        }
    }
}
