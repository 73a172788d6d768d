package io.streamingllm.core.log;

import io.streamingllm.core.DirectoryLock;
import io.streamingllm.core.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * disk; concurrent appends share one fdatasync, whichever conversations they go to ({@link AppendWriter}). The
 * directory is locked ({@link DirectoryLock}) from the first thing the constructor does until {@link #close}: a
 * second log on it, in this process or another, is refused before it touches anything.
 *
 * <p>Faults: a write that fails is retried for up to {@code writeRetry} after the problem began, then the append
 * fails and nothing of it stays in the file; the log recovers by itself when writing works again, and
 * {@link #health} says meanwhile why it cannot write.
 *
 * <p>Thread-safe: a conversation's writes are serialised by its {@link ConversationFile#lock}; readers take no lock
 * but the one-time tail check.
 */
public final class EventLog implements EventStore {
    public static final int DEFAULT_MAX_OPEN_FILES = 256;
    /** How long an append waits for a failing disk by default (a turn's end waits that long at most). */
    public static final Duration DEFAULT_WRITE_RETRY = Duration.ofSeconds(5);

    private final LogLayout layout;
    private final DirectoryLock dirLock;
    private final WriteChannels channels;
    private final SpareFiles spares;
    private final TailRepair repair;
    private final LogQueries queries;
    private final WriteFaults faults;
    private final AppendWriter writer;
    private final Journal journal;
    private final HealthProbe probe;
    private final LogArchiver archiver;
    /**
     * Every conversation this instance touched; entries stay, so that one lock always guards one file. Sized for
     * {@value #EXPECTED_CONVERSATIONS} up front (a 256 KB table): each doubling of a table of thousands copies it
     * while turns wait, and perf caught the first one, with its C2 compile, inside a burst of 200 turn starts.
     */
    private final ConcurrentHashMap<String, ConversationFile> conversations = new ConcurrentHashMap<>(EXPECTED_CONVERSATIONS);
    static final int EXPECTED_CONVERSATIONS = 32_768;

    public EventLog(Path logDir) {
        this(logDir, DEFAULT_MAX_OPEN_FILES);
    }

    public EventLog(Path logDir, int maxOpenFiles) {
        this(logDir, maxOpenFiles, DEFAULT_WRITE_RETRY);
    }

    /** @param writeRetry how long an append retries a failing write (disk full, read-only) before it fails */
    public EventLog(Path logDir, int maxOpenFiles, Duration writeRetry) {
        this(logDir, maxOpenFiles, Journal.DEFAULT_SEGMENT_SIZE, writeRetry, SegmentPipeline.SegmentFiles.REAL);
    }

    /** With journal segments of {@code segmentSize} bytes (tests roll segments over quickly). */
    EventLog(Path logDir, int maxOpenFiles, long segmentSize) {
        this(logDir, maxOpenFiles, segmentSize, DEFAULT_WRITE_RETRY, SegmentPipeline.SegmentFiles.REAL);
    }

    /** With segment files made by {@code segmentFiles} (tests inject failing channels). */
    EventLog(Path logDir, int maxOpenFiles, long segmentSize, Duration writeRetry,
             SegmentPipeline.SegmentFiles segmentFiles) {
        if (maxOpenFiles < 1) {
            throw new IllegalArgumentException("maxOpenFiles must be at least 1, got " + maxOpenFiles);
        }
        if (segmentSize < 4096 || segmentSize > 1L << 30) {
            throw new IllegalArgumentException("journal segments must be 4 KiB to 1 GiB, got " + segmentSize);
        }
        if (writeRetry.isNegative()) {
            throw new IllegalArgumentException("writeRetry must not be negative, got " + writeRetry);
        }
        this.layout = new LogLayout(logDir.toAbsolutePath().normalize());
        this.dirLock = DirectoryLock.acquire(layout.dir(), "log directory");
        SpareFiles spareFiles = null;
        try {
            this.repair = new TailRepair(layout);
            spareFiles = new SpareFiles(layout.dir(), SpareFiles.DEFAULT_TARGET);
            this.spares = spareFiles;
            this.channels = new WriteChannels(layout, repair, maxOpenFiles, spareFiles);
            this.queries = new LogQueries(layout);
            this.faults = new WriteFaults(writeRetry);
            LineRollback rollback = new LineRollback(layout, channels, conversations);
            this.writer = new AppendWriter(layout, channels, rollback, faults);
            Path journalDir = layout.journalDir();
            long firstSeq;
            try {
                JournalRecovery.Recovered recovered = JournalRecovery.recover(journalDir);
                new JournalReplay(layout, repair).replay(recovered.records());
                JournalRecovery.discard(journalDir, recovered.segments());
                firstSeq = recovered.nextSeq();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot replay the event log journal " + journalDir + ": "
                        + WriteFaults.reason(e), e);
            }
            this.journal = new Journal(journalDir, segmentSize, firstSeq, new FileCheckpoint(layout, conversations),
                    rollback, faults, segmentFiles);
            writer.journal(journal);
            this.probe = new HealthProbe(layout, faults, journal);
            this.archiver = new LogArchiver(layout, channels, journal);
        } catch (RuntimeException e) {
            if (spareFiles != null) {
                spareFiles.close();
            }
            dirLock.close();
            throw e;
        }
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
        CompletableFuture<Void> durable = writer.write(conversation(conversationId),
                lines.toString().getBytes(StandardCharsets.UTF_8));
        try {
            durable.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new LogWriteException("cannot append to log of conversation " + conversationId + ": "
                        + WriteFaults.reason(io), io);
            }
            throw e;
        }
        return List.copyOf(events);
    }

    /** All events of a conversation, chronological, streamed from the file. Close the stream. */
    public Stream<Event> read(String conversationId) {
        Path file = layout.requireFile(conversationId);
        if (!repairOnce(conversationId)) {
            return Stream.empty(); // no file when checked just now: no open that fails with an exception per new conversation
        }
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
     * Events stamped at or after {@code instant} across conversations, in id (creation) order, read a page at a
     * time: memory holds one page, whatever the logs weigh; files untouched since before {@code instant} are not
     * opened. Close the stream.
     */
    public Stream<Event> since(Instant instant) {
        return queries.since(instant);
    }

    /**
     * One page of events across conversations ({@link EventQuery}: filters, cursor, limit), read from the files with
     * bounded memory (see {@link EventPager}).
     */
    public EventPage query(EventQuery query) {
        return queries.page(query);
    }

    /** One page of one conversation's events; empty when it has no log. */
    public EventPage query(String conversationId, EventQuery query) {
        layout.requireFile(conversationId);
        repairOnce(conversationId);
        return queries.page(conversationId, query);
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
        writer.close();
        faults.close();
        journal.close();
        channels.closeAll();
        spares.close();
        dirLock.close();
    }

    /**
     * Whether appends can be written now, and if not why (disk full, read-only, I/O errors). While they cannot, a
     * call at most once a second tries a small write to find out whether they can again.
     */
    public LogHealth health() {
        return probe.health();
    }

    /** Stops like a crash: queued appends are committed to the journal, but nothing is checkpointed (tests). */
    void halt() {
        writer.close();
        faults.close();
        journal.halt();
        channels.closeAll();
        spares.close();
        dirLock.close();
    }

    /** The pool of empty files new conversations' logs are made from (tests). */
    SpareFiles spares() {
        return spares;
    }

    /** Waits until every full journal segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        journal.awaitCheckpoints();
    }

    /** Journal segments checkpointed so far (tests). */
    long checkpoints() {
        return journal.checkpoints();
    }

    // ---- conversations --------------------------------------------------------------------------------------

    private ConversationFile conversation(String id) {
        ConversationFile c = conversations.get(id);
        if (c != null) {
            return c;
        }
        Ids.require("conversation", id);
        return conversations.computeIfAbsent(id, ConversationFile::new);
    }

    /**
     * Checks the conversation's tail for a torn line the first time this instance touches it; false only when that
     * check, made by this call, found no file (a reader then has nothing to open; a file created since is one created
     * after the read).
     */
    private boolean repairOnce(String id) {
        ConversationFile c = conversation(id);
        c.lock.lock();
        try {
            if (!c.checked) {
                boolean exists = repair.repair(id);
                c.checked = true;
                return exists;
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check log of conversation " + id + ": " + e.getMessage(), e);
        } finally {
            c.lock.unlock();
        }
    }
}
