package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.Ids;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonWriter;
import jakarta.json.JsonWriterFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Durable per-conversation JSONL event logs under one directory ({@code LOG_DIR/{conversation_id}.jsonl}).
 * {@link #append} returns only after the bytes are on disk; concurrent appends share fsyncs.
 *
 * <p>One committer thread owns every write: appenders serialise their line in their own thread, queue it and
 * wait; the committer drains everything queued, writes each conversation's lines with one gathering write,
 * forces each touched file once, then releases the waiters (group commit). Lines therefore never interleave,
 * and at most {@code maxOpenFiles} write channels are open (least recently used are closed).
 *
 * <p>A torn last line left by a crash (bytes after the last newline, or a last line that does not parse) is
 * appended to {@code {id}.jsonl.corrupt} and cut from the live file the first time this instance touches the
 * conversation. Readers also skip any line that does not parse, with a warning.
 */
public final class EventLog implements AutoCloseable {
    public static final int DEFAULT_MAX_OPEN_FILES = 256;
    static final String SUFFIX = ".jsonl";
    static final String CORRUPT_SUFFIX = ".jsonl.corrupt";

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());
    private static final JsonWriterFactory WRITERS = Json.createWriterFactory(Map.of());
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final Write STOP = new Write(null, null, null);
    /** File mtimes come from a coarse kernel clock; don't let it hide events from {@link #since}. */
    private static final long MTIME_SLACK_MS = 2_000;

    private final Path logDir;
    private final int maxOpenFiles;
    private final LinkedBlockingQueue<Write> queue = new LinkedBlockingQueue<>();
    private final Object enqueueLock = new Object();
    private boolean closed; // guarded by enqueueLock
    private final Thread committer;
    private static final int FORCE_THREADS = 16;
    /** Helpers of the committer for concurrent fsyncs; idle threads time out. */
    private final java.util.concurrent.ThreadPoolExecutor forcers;

    /** Held by the committer for a whole batch, and by tail repair and archive. */
    private final Object ioLock = new Object();
    /** Open append channels, least recently used first. Guarded by ioLock. */
    private final LinkedHashMap<String, FileChannel> channels = new LinkedHashMap<>(64, 0.75f, true);
    /** Conversations whose file tail was checked by this instance. */
    private final Set<String> repaired = ConcurrentHashMap.newKeySet();
    private volatile LongConsumer fsyncListener = nanos -> { };

    public EventLog(Path logDir) {
        this(logDir, DEFAULT_MAX_OPEN_FILES);
    }

    public EventLog(Path logDir, int maxOpenFiles) {
        if (maxOpenFiles < 1) {
            throw new IllegalArgumentException("maxOpenFiles must be at least 1, got " + maxOpenFiles);
        }
        this.logDir = logDir.toAbsolutePath().normalize();
        this.maxOpenFiles = maxOpenFiles;
        try {
            Files.createDirectories(this.logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + this.logDir + ": " + e.getMessage(), e);
        }
        forcers = new java.util.concurrent.ThreadPoolExecutor(FORCE_THREADS, FORCE_THREADS, 30, java.util.concurrent.TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), Thread.ofPlatform().daemon().name("event-log-fsync-", 0).factory());
        forcers.allowCoreThreadTimeOut(true);
        committer = Thread.ofPlatform().daemon().name("event-log-committer").unstarted(this::runCommitter);
        committer.start();
    }

    public Path directory() {
        return logDir;
    }

    /** Called after each group commit with the nanoseconds its fsyncs took (for metrics). */
    public void onFsync(LongConsumer listener) {
        this.fsyncListener = listener == null ? nanos -> { } : listener;
    }

    /** Appends one event durably (fsync'd before return). */
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
            lines.append(toLine(e)).append('\n');
        }
        Write write = new Write(conversationId, lines.toString().getBytes(StandardCharsets.UTF_8),
                new CompletableFuture<>());
        synchronized (enqueueLock) {
            if (closed) {
                throw new IllegalStateException("event log " + logDir + " is closed");
            }
            queue.add(write);
        }
        try {
            write.done.join();
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
        Path file = file(conversationId);
        repairOnce(conversationId);
        return lines(file);
    }

    /** The last {@code limit} events of a conversation, chronological; read backwards from the end. */
    public List<Event> tail(String conversationId, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        Path file = file(conversationId);
        repairOnce(conversationId);
        if (limit == 0) {
            return List.of();
        }
        List<Event> newestFirst = new ArrayList<>(Math.min(limit, 1024));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            BackwardLines lines = new BackwardLines(ch, ch.size());
            byte[] line;
            while (newestFirst.size() < limit && (line = lines.previous()) != null) {
                Event e = parse(line, file);
                if (e != null) {
                    newestFirst.add(e);
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Collections.reverse(newestFirst);
        return newestFirst;
    }

    /**
     * Events at or after {@code instant} across conversations, chronological. Files are read one at a time
     * (files untouched since before {@code instant} are skipped); memory holds only the matching events.
     */
    public Stream<Event> since(Instant instant) {
        List<Event> found = new ArrayList<>();
        long cutoff = instant.toEpochMilli() - MTIME_SLACK_MS;
        for (String id : conversationIds()) {
            Path file = logDir.resolve(id + SUFFIX);
            try {
                if (Files.getLastModifiedTime(file).toMillis() < cutoff) {
                    continue;
                }
            } catch (IOException e) {
                continue; // archived meanwhile
            }
            try (Stream<Event> events = lines(file)) {
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
                .flatMap(id -> lines(logDir.resolve(id + SUFFIX)))
                .filter(e -> (anyType || types.contains(e.type())) && (visibility == null || e.visibility() == visibility));
    }

    /** Ids of the conversations that have a live log, sorted. */
    public List<String> conversationIds() {
        List<String> ids = new ArrayList<>();
        try (Stream<Path> files = Files.list(logDir)) {
            files.forEach(p -> {
                String name = p.getFileName().toString();
                if (name.endsWith(SUFFIX)) {
                    String id = name.substring(0, name.length() - SUFFIX.length());
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
        return Files.isRegularFile(file(conversationId));
    }

    /**
     * Moves a conversation's log (and its {@code .corrupt} file, if any) into {@code archiveDir} as
     * {@code {id}.{UTC stamp}.jsonl}, never replacing an earlier archive; false if it had no log.
     */
    public boolean archive(String conversationId, Path archiveDir) {
        Path file = file(conversationId);
        synchronized (ioLock) {
            closeChannel(conversationId);
            repaired.remove(conversationId);
            if (!Files.isRegularFile(file)) {
                return false;
            }
            try {
                Path moved = AtomicFiles.moveToArchive(file, archiveDir, conversationId, SUFFIX);
                Path corrupt = logDir.resolve(conversationId + CORRUPT_SUFFIX);
                if (Files.isRegularFile(corrupt)) {
                    String stem = moved.getFileName().toString();
                    stem = stem.substring(0, stem.length() - SUFFIX.length());
                    AtomicFiles.moveToArchive(corrupt, archiveDir, stem, ".corrupt");
                }
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot archive " + file + " to " + archiveDir + ": " + e.getMessage(), e);
            }
        }
    }

    /** Waits for queued appends, then closes every file. Appends after close throw IllegalStateException. */
    @Override
    public void close() {
        synchronized (enqueueLock) {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(STOP);
        }
        boolean interrupted = false;
        while (committer.isAlive()) {
            try {
                committer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        forcers.shutdown();
        synchronized (ioLock) {
            for (String id : new ArrayList<>(channels.keySet())) {
                closeChannel(id);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- writing ------------------------------------------------------------------------------------------

    private record Write(String conversationId, byte[] bytes, CompletableFuture<Void> done) {
    }

    private void runCommitter() {
        List<Write> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue; // only close() ends the committer, after draining
            }
            queue.drainTo(batch);
            stop = batch.remove(STOP);
            if (!batch.isEmpty()) {
                try {
                    commit(batch);
                } catch (RuntimeException | Error e) {
                    // never leave an appender waiting forever
                    batch.forEach(w -> w.done().completeExceptionally(e));
                    LOG.log(System.Logger.Level.ERROR, "event log committer failed a batch", e);
                }
            }
            batch.clear();
        }
    }

    private void commit(List<Write> batch) {
        Map<String, List<Write>> byConversation = new LinkedHashMap<>();
        for (Write w : batch) {
            byConversation.computeIfAbsent(w.conversationId(), k -> new ArrayList<>()).add(w);
        }
        Map<String, IOException> failed = new HashMap<>();
        synchronized (ioLock) {
            Map<String, FileChannel> touched = new LinkedHashMap<>();
            boolean created = false;
            for (Map.Entry<String, List<Write>> entry : byConversation.entrySet()) {
                String id = entry.getKey();
                FileChannel ch = null;
                long sizeBefore = -1;
                try {
                    boolean existed = channels.containsKey(id) || Files.exists(logDir.resolve(id + SUFFIX));
                    ch = channel(id, touched, failed);
                    created |= !existed;
                    sizeBefore = ch.size();
                    List<Write> writes = entry.getValue();
                    ByteBuffer[] buffers = new ByteBuffer[writes.size()];
                    long total = 0;
                    for (int i = 0; i < buffers.length; i++) {
                        buffers[i] = ByteBuffer.wrap(writes.get(i).bytes());
                        total += buffers[i].remaining();
                    }
                    long written = 0;
                    while (written < total) {
                        written += ch.write(buffers);
                    }
                    touched.put(id, ch);
                } catch (IOException e) {
                    failed.put(id, e);
                    abandon(id, ch, sizeBefore);
                }
            }
            long start = System.nanoTime();
            forceAll(touched, failed);
            if (created) {
                AtomicFiles.syncDirectory(logDir);
            }
            fsyncListener.accept(System.nanoTime() - start);
        }
        for (Write w : batch) {
            IOException e = failed.get(w.conversationId());
            if (e == null) {
                w.done().complete(null);
            } else {
                w.done().completeExceptionally(e);
            }
        }
    }

    /**
     * Forces every touched file. Several files are forced concurrently: the file system folds concurrent
     * fsyncs into one journal commit, so a batch spread over many conversations costs about one fsync.
     */
    private void forceAll(Map<String, FileChannel> touched, Map<String, IOException> failed) {
        List<Map.Entry<String, FileChannel>> files = new ArrayList<>(touched.entrySet());
        if (files.size() == 1) {
            forceOne(files.get(0), failed);
            return;
        }
        int lanes = Math.min(files.size(), FORCE_THREADS);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(lanes - 1);
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, IOException> laneFailures = new ConcurrentHashMap<>();
        Runnable lane = () -> {
            for (int i; (i = next.getAndIncrement()) < files.size(); ) {
                try {
                    files.get(i).getValue().force(false);
                } catch (IOException e) {
                    laneFailures.put(files.get(i).getKey(), e);
                }
            }
        };
        for (int l = 1; l < lanes; l++) {
            forcers.execute(() -> {
                try {
                    lane.run();
                } finally {
                    done.countDown();
                }
            });
        }
        lane.run();
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        laneFailures.forEach((id, e) -> {
            failed.put(id, e);
            abandon(id, touched.get(id), -1);
        });
    }

    private void forceOne(Map.Entry<String, FileChannel> file, Map<String, IOException> failed) {
        try {
            file.getValue().force(false);
        } catch (IOException e) {
            failed.put(file.getKey(), e);
            abandon(file.getKey(), file.getValue(), -1);
        }
    }

    /** The append channel of a conversation, opened (tail repaired first) and cached as needed. */
    private FileChannel channel(String id, Map<String, FileChannel> touched, Map<String, IOException> failed)
            throws IOException {
        FileChannel ch = channels.get(id);
        if (ch != null) {
            return ch;
        }
        if (!repaired.contains(id)) {
            repair(id);
            repaired.add(id);
        }
        while (channels.size() >= maxOpenFiles) {
            Iterator<Map.Entry<String, FileChannel>> eldest = channels.entrySet().iterator();
            Map.Entry<String, FileChannel> victim = eldest.next();
            eldest.remove();
            if (touched.remove(victim.getKey()) != null) {
                try {
                    victim.getValue().force(false); // written in this batch: make it durable before closing
                } catch (IOException e) {
                    failed.put(victim.getKey(), e);
                    repaired.remove(victim.getKey());
                }
            }
            closeQuietly(victim.getValue());
        }
        ch = FileChannel.open(logDir.resolve(id + SUFFIX), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        channels.put(id, ch);
        return ch;
    }

    /** After a failed write: cut what this batch wrote, drop the channel, re-check the tail on next open. */
    private void abandon(String id, FileChannel ch, long sizeBefore) {
        if (ch != null && sizeBefore >= 0) {
            try {
                ch.truncate(sizeBefore);
            } catch (IOException ignored) {
                // the tail check on the next open moves any partial line aside
            }
        }
        closeChannel(id);
        repaired.remove(id);
    }

    private void closeChannel(String id) {
        FileChannel ch = channels.remove(id);
        if (ch != null) {
            try {
                ch.force(false);
            } catch (IOException ignored) {
                // appends were forced at commit; nothing unacknowledged depends on this
            }
            closeQuietly(ch);
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
        if (repaired.contains(id)) {
            return;
        }
        if (!Files.exists(logDir.resolve(id + SUFFIX))) {
            // nothing to repair, and what this instance writes later is whole lines: no need to wait for ioLock,
            // which the committer holds across a batch's fsyncs (a new conversation's first turn would wait)
            repaired.add(id);
            return;
        }
        synchronized (ioLock) {
            if (!repaired.contains(id)) {
                try {
                    repair(id);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot check log of conversation " + id + ": " + e.getMessage(), e);
                }
                repaired.add(id);
            }
        }
    }

    /**
     * Moves a torn tail into {@code {id}.jsonl.corrupt} (fsync'd) and only then truncates the live file to the
     * end of its last good line: bytes after the last newline, and a last line that does not parse.
     */
    private void repair(String id) throws IOException {
        Path file = logDir.resolve(id + SUFFIX);
        if (!Files.isRegularFile(file)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size == 0) {
                return;
            }
            BackwardLines lines = new BackwardLines(ch, size);
            long cut = lines.endOfLastCompleteLine();
            long goodEnd = cut;
            byte[] last = lines.previous();
            if (last != null && parse(last, null) == null) {
                cut = lines.position();
            }
            if (cut == size) {
                return;
            }
            byte[] torn = new byte[(int) Math.min(size - cut, Integer.MAX_VALUE - 16)];
            ByteBuffer buf = ByteBuffer.wrap(torn);
            while (buf.hasRemaining() && ch.read(buf, cut + buf.position()) > 0) {
                // read the torn bytes
            }
            Path corrupt = logDir.resolve(id + CORRUPT_SUFFIX);
            try (FileChannel out = FileChannel.open(corrupt, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                ByteBuffer data = ByteBuffer.wrap(torn);
                ByteBuffer newline = ByteBuffer.wrap(torn.length > 0 && torn[torn.length - 1] == '\n'
                        ? new byte[0] : new byte[]{'\n'});
                while (data.hasRemaining() || newline.hasRemaining()) {
                    out.write(new ByteBuffer[]{data, newline});
                }
                out.force(true);
            }
            AtomicFiles.syncDirectory(logDir);
            ch.truncate(cut);
            ch.force(true);
            LOG.log(System.Logger.Level.WARNING, "event log {0}: moved a torn tail of {1} bytes ({2}) to {3}",
                    file, size - cut, goodEnd == size ? "last line does not parse" : "no trailing newline",
                    corrupt.getFileName());
        }
    }

    // ---- reading --------------------------------------------------------------------------------------------

    private Path file(String conversationId) {
        return logDir.resolve(Ids.require("conversation", conversationId) + SUFFIX);
    }

    private static String toLine(Event e) {
        StringWriter out = new StringWriter(256);
        try (JsonWriter w = WRITERS.createWriter(out)) {
            w.write(e.toJson());
        }
        return out.toString();
    }

    /** Parses one line; a malformed line is logged (when {@code file} is given) and yields null. */
    private static Event parse(byte[] line, Path file) {
        String text = new String(line, StandardCharsets.UTF_8);
        try (JsonReader r = READERS.createReader(new StringReader(text))) {
            return Event.fromJson(r.readObject());
        } catch (JsonException | IllegalArgumentException | IllegalStateException e) {
            if (file != null) {
                LOG.log(System.Logger.Level.WARNING, "event log {0}: skipping a malformed line: {1}", file, e.getMessage());
            }
            return null;
        }
    }

    /** A lazy stream of a file's parsable complete lines; an unterminated last fragment is ignored. */
    private static Stream<Event> lines(Path file) {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            return Stream.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Iterator<Event> it = new Iterator<>() {
            private final byte[] buf = new byte[64 * 1024];
            private int pos;
            private int len;
            private byte[] line = new byte[1024];
            private Event next;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    byte[] l = readLine();
                    if (l == null) {
                        return false;
                    }
                    next = parse(l, file);
                }
                return true;
            }

            @Override
            public Event next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Event e = next;
                next = null;
                return e;
            }

            private byte[] readLine() {
                int n = 0;
                while (true) {
                    if (pos == len) {
                        try {
                            len = in.read(buf);
                        } catch (IOException e) {
                            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
                        }
                        pos = 0;
                        if (len <= 0) {
                            len = 0;
                            return null; // EOF: a fragment without newline is not a line (yet)
                        }
                    }
                    int start = pos;
                    while (pos < len && buf[pos] != '\n') {
                        pos++;
                    }
                    int chunk = pos - start;
                    if (n + chunk > line.length) {
                        line = java.util.Arrays.copyOf(line, Math.max(line.length * 2, n + chunk));
                    }
                    System.arraycopy(buf, start, line, n, chunk);
                    n += chunk;
                    if (pos < len) {
                        pos++; // the newline
                        return java.util.Arrays.copyOf(line, n);
                    }
                }
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(() -> {
                    try {
                        in.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    /** Walks a file's newline-terminated lines from the end towards the start through a read-back window. */
    private static final class BackwardLines {
        private static final int WINDOW = 64 * 1024;
        private final FileChannel ch;
        private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
        private long windowStart = -1;
        private int windowLength;
        private final long size;
        /** Position just after the newline that ends the next line {@link #previous} returns. */
        private long pos;

        BackwardLines(FileChannel ch, long size) throws IOException {
            this.ch = ch;
            this.size = size;
            this.pos = endOfLastCompleteLine();
        }

        /** Position after the file's last newline (0 when there is none). */
        long endOfLastCompleteLine() throws IOException {
            return lastNewlineBefore(size) + 1;
        }

        long position() {
            return pos;
        }

        /** The line before the current position without its newline, or null at the start of the file. */
        byte[] previous() throws IOException {
            if (pos == 0) {
                return null;
            }
            long newline = pos - 1;
            long start = lastNewlineBefore(newline) + 1;
            byte[] line = new byte[Math.toIntExact(newline - start)];
            ByteBuffer dst = ByteBuffer.wrap(line);
            while (dst.hasRemaining()) {
                if (ch.read(dst, start + dst.position()) < 0) {
                    throw new IOException("file shrank while reading");
                }
            }
            pos = start;
            return line;
        }

        /** Index of the last newline strictly before {@code end}, or -1. */
        private long lastNewlineBefore(long end) throws IOException {
            long i = end - 1;
            while (i >= 0) {
                if (i < windowStart || i >= windowStart + windowLength) {
                    load(i);
                }
                int off = (int) (i - windowStart);
                byte[] a = window.array();
                while (off >= 0 && a[off] != '\n') {
                    off--;
                }
                if (off >= 0) {
                    return windowStart + off;
                }
                i = windowStart - 1;
            }
            return -1;
        }

        /** Loads the window so that it ends just after {@code index}. */
        private void load(long index) throws IOException {
            long start = Math.max(0, index + 1 - WINDOW);
            window.clear();
            window.limit((int) (index + 1 - start));
            while (window.hasRemaining()) {
                if (ch.read(window, start + window.position()) < 0) {
                    break;
                }
            }
            windowStart = start;
            windowLength = window.position();
        }
    }
}
