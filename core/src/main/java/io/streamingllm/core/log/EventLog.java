package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Durable per-conversation JSONL event logs under one directory ({@code LOG_DIR/{conversation_id}.jsonl}).
 * {@link #append} returns only after the event is on disk; concurrent appends share one fdatasync, whichever
 * conversations they go to (group commit).
 *
 * <p>Durability comes from a write-ahead journal under {@code LOG_DIR/.journal/} ({@link Journal}). An appender
 * serialises its line in its own thread and queues it on its conversation; holding the conversation's lock, one
 * appender writes every queued line at the end of the conversation's file (one write, page cache only) and
 * queues one journal record of them (conversation, file offset, bytes): lines never interleave, appends to
 * different conversations write in parallel, and a conversation's records are in the order of its file. The journal's
 * committer writes every queued record with one write and one {@code force(false)}, then releases the waiters.
 * When a journal segment is full, the conversation files it covers are forced and the segment is deleted; a
 * clean {@link #close} leaves no journal behind.
 *
 * <p>On open, a journal left by a crash is replayed before anything else reads the files: a record whose bytes
 * the file already holds at its offset is skipped, one at the file's end is appended, and anything else found
 * at its offset (zeros of a lost page cache, other bytes) is moved to {@code {id}.jsonl.corrupt} before the
 * record's line is written there. Replay is idempotent; the files are forced before the journal is dropped.
 *
 * <p>At most {@code maxOpenFiles} write channels are open (least recently used are closed; the checkpoint
 * forces a closed one through a fresh descriptor). A torn last line left by a crash (bytes after the last
 * newline, or a last line that does not parse) is appended to {@code {id}.jsonl.corrupt} and cut from the live
 * file the first time this instance touches the conversation. Readers also skip any line that does not parse,
 * with a warning.
 */
public final class EventLog implements AutoCloseable {
    public static final int DEFAULT_MAX_OPEN_FILES = 256;

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());
    /** File mtimes come from a coarse kernel clock; don't let it hide events from {@link #since}. */
    private static final long MTIME_SLACK_MS = 2_000;
    private static final int CHECKPOINT_LANES = 16;

    private final Path logDir;
    private final LogLayout layout;
    private final TailRepair repair;
    private final int maxOpenFiles;
    private final Journal journal;
    private volatile boolean closed;
    /** Every conversation this instance touched; entries stay, so that one lock always guards one file. */
    private final ConcurrentHashMap<String, ConversationFile> conversations = new ConcurrentHashMap<>();
    private final ReentrantLock channelsLock = new ReentrantLock();
    /** Conversations with an open write channel, in clock order (second chance for recently used ones). */
    private final ArrayDeque<ConversationFile> open = new ArrayDeque<>(); // guarded by channelsLock

    private static final class ConversationFile {
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
    }

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
        this.logDir = logDir.toAbsolutePath().normalize();
        this.maxOpenFiles = maxOpenFiles;
        this.layout = new LogLayout(this.logDir);
        this.repair = new TailRepair(layout);
        try {
            Files.createDirectories(this.logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + this.logDir + ": " + e.getMessage(), e);
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
        journal = new Journal(journalDir, segmentSize, firstSeq, this::forceFiles);
    }

    public Path directory() {
        return logDir;
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
        List<Event> found = new ArrayList<>();
        long cutoff = instant.toEpochMilli() - MTIME_SLACK_MS;
        for (String id : conversationIds()) {
            Path file = layout.file(id);
            try {
                if (Files.getLastModifiedTime(file).toMillis() < cutoff) {
                    continue;
                }
            } catch (IOException e) {
                continue; // archived meanwhile
            }
            try (Stream<Event> events = ForwardLines.events(file)) {
                events.filter(e -> !e.timestamp().isBefore(instant)).forEach(found::add);
            }
        }
        found.sort(Comparator.comparing(Event::timestamp));
        return found.stream();
    }

    /**
     * Events of the given types (all when empty or null) and visibility (any when null), conversation by
     * conversation (ids sorted), each conversation's in order. Lazy: one file open at a time. Close the stream.
     */
    public Stream<Event> byType(Set<EventType> types, Visibility visibility) {
        boolean anyType = types == null || types.isEmpty();
        return conversationIds().stream()
                .flatMap(id -> ForwardLines.events(layout.file(id)))
                .filter(e -> (anyType || types.contains(e.type())) && (visibility == null || e.visibility() == visibility));
    }

    /**
     * Ids of the conversations that have a live log, sorted. Only {@code {valid id}.jsonl} files count: the
     * journal directory ({@code .journal}, no id starts with a dot) and {@code .corrupt} files never do.
     */
    public List<String> conversationIds() {
        List<String> ids = new ArrayList<>();
        try (Stream<Path> files = Files.list(logDir)) {
            files.forEach(p -> {
                String name = p.getFileName().toString();
                if (name.endsWith(LogLayout.SUFFIX)) {
                    String id = name.substring(0, name.length() - LogLayout.SUFFIX.length());
                    if (Ids.isValid(id)) {
                        ids.add(id);
                    }
                }
            });
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + logDir + ": " + e.getMessage(), e);
        }
        Collections.sort(ids);
        return ids;
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
        Path file = layout.requireFile(conversationId);
        ConversationFile c = conversation(conversationId);
        boolean interrupted = Thread.interrupted(); // file I/O below must not be cut by an interrupt
        c.lock.lock();
        try {
            release(c);
            c.checked = false;
            c.end = -1;
            if (!Files.isRegularFile(file)) {
                return false;
            }
            try {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                awaitArchivedMarker(conversationId);
                Path moved = AtomicFiles.moveToArchive(file, archiveDir, conversationId, LogLayout.SUFFIX);
                Path corrupt = layout.corruptFile(conversationId);
                if (Files.isRegularFile(corrupt)) {
                    String stem = moved.getFileName().toString();
                    stem = stem.substring(0, stem.length() - LogLayout.SUFFIX.length());
                    AtomicFiles.moveToArchive(corrupt, archiveDir, stem, ".corrupt");
                }
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot archive " + file + " to " + archiveDir + ": " + e.getMessage(), e);
            }
        } finally {
            c.lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void awaitArchivedMarker(String conversationId) throws IOException {
        CompletableFuture<Void> marker;
        try {
            marker = journal.archived(conversationId);
        } catch (IllegalStateException closedJournal) {
            return; // closed: its checkpoint covered every record, nothing is left to replay
        }
        try {
            marker.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    /** Commits queued appends, forces every file the journal covers, deletes the journal, closes every file. */
    @Override
    public void close() {
        closed = true;
        journal.close();
        closeChannels();
    }

    /** Stops like a crash: queued appends are committed to the journal, but nothing is checkpointed (tests). */
    void halt() {
        closed = true;
        journal.halt();
        closeChannels();
    }

    /** Waits until every full journal segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        journal.awaitCheckpoints();
    }

    /** Journal segments checkpointed so far (tests). */
    long checkpoints() {
        return journal.checkpoints();
    }

    private void closeChannels() {
        channelsLock.lock();
        try {
            for (ConversationFile c : open) {
                FileChannel ch = c.channel;
                c.channel = null;
                if (ch != null) {
                    closeQuietly(ch);
                }
            }
            open.clear();
        } finally {
            channelsLock.unlock();
        }
    }

    // ---- writing ------------------------------------------------------------------------------------------

    private ConversationFile conversation(String id) {
        ConversationFile c = conversations.get(id);
        if (c != null) {
            return c;
        }
        Ids.require("conversation", id);
        return conversations.computeIfAbsent(id, ConversationFile::new);
    }

    /** One appender's lines, waiting in its conversation's queue until a lock holder writes them. */
    private static final class Write {
        final byte[] bytes;
        // set by the writer of the group, read by the appender after it holds the lock itself
        boolean taken;
        CompletableFuture<Void> durable;
        RuntimeException failure;

        Write(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    /**
     * Queues {@code bytes} for the end of the conversation's file and takes the conversation's lock; whoever holds
     * it writes every queued line with one write and queues one journal record for them (so 64 appenders of one
     * conversation cost a few writes, not 64 writes handed from one to the next). Returns the durability.
     */
    private CompletableFuture<Void> write(String id, byte[] bytes) {
        ConversationFile c = conversation(id);
        Write own = new Write(bytes);
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
        List<Write> group = new ArrayList<>();
        int length = 0;
        for (Write w; (w = c.queued.poll()) != null; ) {
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
            for (Write w : group) {
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
        for (Write w : group) {
            w.durable = durable;
            w.failure = failure;
        }
    }

    private CompletableFuture<Void> writeAndJournal(ConversationFile c, byte[] bytes, boolean[] interrupted) {
        if (closed) {
            throw new IllegalStateException("event log " + logDir + " is closed");
        }
        long offset = -1;
        for (int attempt = 1; ; attempt++) {
            try {
                FileChannel ch = writable(c);
                offset = c.end;
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf, offset + buf.position());
                }
                c.end = offset + bytes.length;
                break;
            } catch (ClosedChannelException e) {
                // closed under the write by an interrupt: reopen (which cuts a partial write) and retry
                interrupted[0] |= Thread.interrupted();
                release(c);
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
            release(c);
            c.end = -1;
            c.checked = false; // the tail check on the next use moves any partial line aside
            LOG.log(System.Logger.Level.WARNING, "event log {0}: cannot cut an unacknowledged write: {1}", c.id,
                    e.getMessage());
        }
    }

    /** The conversation's write channel, opened (tail checked first) and admitted to the open set as needed. */
    private FileChannel writable(ConversationFile c) throws IOException {
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
            ch = FileChannel.open(layout.file(c.id), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long size = ch.size();
            if (c.end >= 0 && size > c.end) {
                ch.truncate(c.end); // what a failed attempt wrote past the end
            } else {
                c.end = size;
            }
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                closeQuietly(ch);
            }
            release(c);
            throw e;
        }
        c.channel = ch;
        return ch;
    }

    /** Makes room in the open set (closing an idle channel not used since the clock last passed) and adds c. */
    private void admit(ConversationFile c) {
        channelsLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("event log " + logDir + " is closed");
            }
            int passed = 0;
            while (open.size() >= maxOpenFiles) {
                ConversationFile victim = open.pollFirst();
                // a busy victim (its writer holds the lock) is passed over, never waited for: that writer may be
                // waiting for channelsLock itself
                if (victim.referenced || !victim.lock.tryLock()) {
                    victim.referenced = false;
                    open.addLast(victim);
                    if (++passed > 2 * maxOpenFiles) {
                        channelsLock.unlock(); // every channel busy: let their writers finish
                        Thread.yield();
                        channelsLock.lock();
                        passed = 0;
                    }
                    continue;
                }
                try {
                    FileChannel ch = victim.channel;
                    victim.channel = null;
                    victim.end = -1;
                    if (ch != null) {
                        closeQuietly(ch); // unforced is fine: the checkpoint forces through a new descriptor
                    }
                } finally {
                    victim.lock.unlock();
                }
            }
            open.addLast(c);
        } finally {
            channelsLock.unlock();
        }
    }

    /** Closes the conversation's channel and drops it from the open set. Holds c.lock. */
    private void release(ConversationFile c) {
        FileChannel ch = c.channel;
        c.channel = null;
        channelsLock.lock();
        try {
            open.remove(c);
        } finally {
            channelsLock.unlock();
        }
        if (ch != null) {
            closeQuietly(ch);
        }
    }

    /**
     * The checkpoint: forces the files a journal segment wrote to, then their directory (names of new files).
     * Up to {@value #CHECKPOINT_LANES} forces run at once (on virtual threads, for this checkpoint only): the
     * file system folds concurrent fsyncs into one commit, so 10,000 files take about as long as a few hundred.
     */
    private void forceFiles(Set<String> ids) throws IOException {
        List<String> files = new ArrayList<>(ids);
        AtomicInteger next = new AtomicInteger();
        Callable<Void> lane = () -> {
            for (int i; (i = next.getAndIncrement()) < files.size(); ) {
                forceFile(files.get(i));
            }
            return null;
        };
        int lanes = Math.min(CHECKPOINT_LANES, files.size());
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
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
        AtomicFiles.syncDirectory(logDir);
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

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a channel that failed already
        }
    }

    // ---- torn-tail repair -----------------------------------------------------------------------------------

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
