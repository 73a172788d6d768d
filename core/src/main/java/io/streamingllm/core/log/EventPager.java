package io.streamingllm.core.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Reads one page of an {@link EventQuery} straight from the files, with bounded memory whatever the logs weigh:
 * one file open at a time, and only the best {@code limit + 1} matching events kept (about {@value #PAGE_BYTES}
 * bytes of lines at most) in a heap ordered by id. Work is skipped where the order allows:
 * <ul>
 *   <li>a forward page starts each file by bisection at its cursor or time ({@link LineSeek}) and stops reading a
 *       file at the first id the page no longer wants; files last written before the lower bound are not opened;</li>
 *   <li>a backward page reads each file backwards from its end or cursor, newest files first (by modification
 *       time), stops reading a file at the first id too old for the page, and stops opening files once they were
 *       last written before the page's oldest event;</li>
 *   <li>lines of other types are skipped without parsing ({@link LineSeek#mayBeOfType}).</li>
 * </ul>
 * Takes no lock (a line being written is not read until its newline is there). Stateless; safe from any thread.
 */
final class EventPager {
    static final long PAGE_BYTES = 4L << 20;
    /** File mtimes come from a coarse kernel clock; timestamps from the wall clock, stepped now and then. */
    private static final long SLACK_MS = 2_000;

    private final LogLayout layout;

    EventPager(LogLayout layout) {
        this.layout = layout;
    }

    /** The page across the given conversations. */
    EventPage page(List<String> conversationIds, EventQuery q) {
        Collector c = new Collector(q);
        byte[][] tokens = LineSeek.typeTokens(q.types());
        if (q.forward()) {
            long lower = lowerBoundMillis(q);
            for (String id : conversationIds) {
                Path file = layout.file(id);
                if (lower == Long.MIN_VALUE || modified(file) >= lower - SLACK_MS) {
                    scan(file, q, c, tokens);
                }
            }
        } else {
            record Candidate(Path file, long modified) {
            }
            List<Candidate> files = new ArrayList<>();
            for (String id : conversationIds) {
                Path file = layout.file(id);
                files.add(new Candidate(file, modified(file)));
            }
            files.sort(Comparator.comparingLong(Candidate::modified).reversed());
            for (Candidate f : files) {
                Instant oldest = c.oldestKeptWhenFull();
                if (oldest != null && f.modified() < oldest.toEpochMilli() - SLACK_MS) {
                    break; // this file and every one after it was last written before the page's oldest event
                }
                scan(f.file(), q, c, tokens);
            }
        }
        return c.page();
    }

    /** The page of one conversation. */
    EventPage page(String conversationId, EventQuery q) {
        Collector c = new Collector(q);
        scan(layout.file(conversationId), q, c, LineSeek.typeTokens(q.types()));
        return c.page();
    }

    private static long lowerBoundMillis(EventQuery q) {
        long lower = q.since() == null ? Long.MIN_VALUE : q.since().toEpochMilli();
        if (q.after() != null) {
            lower = Math.max(lower, EventIds.millis(q.after()).orElse(Long.MIN_VALUE));
        }
        return lower;
    }

    /** The file's modification time in milliseconds; the newest possible when unknown (so it is read). */
    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE; // gone (archived meanwhile): scanning finds nothing
        }
    }

    private void scan(Path file, EventQuery q, Collector c, byte[][] tokens) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (q.forward()) {
                forward(file, ch, size, q, c, tokens);
            } else {
                backward(file, ch, size, q, c, tokens);
            }
        } catch (NoSuchFileException archivedMeanwhile) {
            // nothing to read
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + WriteFaults.reason(e), e);
        }
    }

    private static void forward(Path file, FileChannel ch, long size, EventQuery q, Collector c, byte[][] tokens)
            throws IOException {
        long start = 0;
        if (q.after() != null) {
            String after = q.after();
            start = LineSeek.first(ch, size, line -> {
                String id = LineSeek.idOf(line);
                return id == null ? null : id.compareTo(after) <= 0;
            });
        }
        if (q.since() != null) {
            Instant bound = q.since().minusMillis(SLACK_MS);
            start = Math.max(start, LineSeek.first(ch, size, line -> {
                try {
                    return EventCodec.fromLine(line).timestamp().isBefore(bound);
                } catch (IllegalArgumentException malformed) {
                    return null;
                }
            }));
        }
        ForwardLines lines = new ForwardLines(file, Channels.newInputStream(ch.position(start)));
        for (byte[] line; (line = lines.readLine()) != null; ) {
            String id = LineSeek.id(line);
            if (id != null && (beyond(id, q.before()) || !c.wants(id))) {
                break; // ids only grow from here
            }
            if (id != null && !LineSeek.mayBeOfType(line, tokens)) {
                continue;
            }
            Event e = EventCodec.fromLineOrSkip(line, file);
            if (e == null) {
                continue;
            }
            if (beyond(e.id(), q.before()) || !c.wants(e.id())) {
                break;
            }
            if (q.matches(e)) {
                c.add(e, line.length);
            }
        }
    }

    private static void backward(Path file, FileChannel ch, long size, EventQuery q, Collector c, byte[][] tokens)
            throws IOException {
        long end = size;
        if (q.before() != null) {
            String before = q.before();
            end = LineSeek.first(ch, size, line -> {
                String id = LineSeek.idOf(line);
                return id == null ? null : id.compareTo(before) < 0;
            });
        }
        BackwardLines lines = new BackwardLines(ch, end);
        for (byte[] line; (line = lines.previous()) != null; ) {
            String id = LineSeek.id(line);
            if (id != null && !c.wants(id)) {
                break; // ids only shrink from here
            }
            if (id != null && !LineSeek.mayBeOfType(line, tokens)) {
                continue;
            }
            Event e = EventCodec.fromLineOrSkip(line, file);
            if (e == null) {
                continue;
            }
            if (!c.wants(e.id())) {
                break;
            }
            if (q.matches(e)) {
                c.add(e, line.length);
            }
        }
    }

    private static boolean beyond(String id, String before) {
        return before != null && id.compareTo(before) >= 0;
    }

    /**
     * The best events seen so far: the {@code limit + 1} smallest ids for a forward page, the largest for a backward
     * one (one more than the page, to tell whether there are more), and fewer when their lines pass
     * {@link #PAGE_BYTES}.
     */
    private static final class Collector {
        private record Kept(Event event, int bytes) {
        }

        private final EventQuery q;
        private final Comparator<Kept> order = Comparator.comparing((Kept k) -> k.event().id())
                .thenComparing(k -> k.event().conversationId());
        /** The worst kept event on top: the largest id forward, the smallest backward. */
        private final PriorityQueue<Kept> heap;
        private int capacity;
        private long bytes;
        private boolean trimmed;

        Collector(EventQuery q) {
            this.q = q;
            this.capacity = q.limit() + 1;
            this.heap = new PriorityQueue<>(Math.min(capacity, 1024), q.forward() ? order.reversed() : order);
        }

        /** Whether an event with this id would be kept: there is room, or it is better than the worst kept. */
        boolean wants(String id) {
            if (heap.size() < capacity) {
                return true;
            }
            int c = id.compareTo(heap.peek().event().id());
            return q.forward() ? c < 0 : c > 0;
        }

        void add(Event e, int lineBytes) {
            heap.add(new Kept(e, lineBytes));
            bytes += lineBytes;
            if (heap.size() > capacity) {
                bytes -= heap.poll().bytes();
            }
            while (bytes > PAGE_BYTES && heap.size() > 1) {
                bytes -= heap.poll().bytes(); // a shorter page: the rest is for the next one
                capacity = heap.size();
                trimmed = true;
            }
        }

        /** The timestamp of the oldest event kept, once no more room is left; else null. */
        Instant oldestKeptWhenFull() {
            return heap.size() < capacity ? null : heap.peek().event().timestamp();
        }

        EventPage page() {
            List<Kept> kept = new ArrayList<>(heap);
            kept.sort(order);
            boolean more = trimmed || kept.size() > q.limit();
            if (kept.size() > q.limit()) {
                kept = q.forward() ? kept.subList(0, q.limit()) : kept.subList(kept.size() - q.limit(), kept.size());
            }
            return new EventPage(kept.stream().map(Kept::event).toList(), more);
        }
    }
}
