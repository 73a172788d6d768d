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
 *   <li>across conversations the page is read in time bands next to its bound (ids are time-ordered): a minute,
 *       then each band four times wider, {@value #WINDOW_PASSES} bands at most, then the rest; it ends with the
 *       first band that fills it, so conversations interleaved over a long time are not each read over the page's
 *       whole span, and nothing is read twice;</li>
 *   <li>forwards, each file is entered by bisection at the cursor, time or band ({@link LineSeek}) and left at the
 *       first id the page no longer wants; files last written before the bound are not opened;</li>
 *   <li>backwards, newest files first, each read back from its end, cursor or band; files last written before the
 *       band, or before the page's oldest event once it is full, are not opened;</li>
 *   <li>lines of other types are skipped without parsing ({@link LineSeek#mayBeOfType}).</li>
 * </ul>
 * Takes no lock (a line being written is not read until its newline is there). Stateless; safe from any thread.
 */
final class EventPager {
    static final long PAGE_BYTES = 4L << 20;
    /** File mtimes come from a coarse kernel clock; timestamps from the wall clock, stepped now and then. */
    private static final long SLACK_MS = 2_000;
    /** The first time window a page is looked for in. */
    private static final long WINDOW_MS = 60_000;
    /** Windowed passes before the unbounded one: the last window spans about 17 hours. */
    private static final int WINDOW_PASSES = 6;

    private final LogLayout layout;

    EventPager(LogLayout layout) {
        this.layout = layout;
    }

    /** The page across the given conversations, band after band (see the class comment). */
    EventPage page(List<String> conversationIds, EventQuery q) {
        List<Candidate> files = new ArrayList<>(conversationIds.size());
        long newest = Long.MIN_VALUE;
        for (String id : conversationIds) {
            Path file = layout.file(id);
            long modified = modified(file);
            files.add(new Candidate(file, modified));
            newest = Math.max(newest, modified);
        }
        Collector c = new Collector(q);
        byte[][] tokens = LineSeek.typeTokens(q.types());
        if (q.forward()) {
            long from = lowerBoundMillis(q);
            String low = null;
            long lowMillis = from;
            long span = WINDOW_MS;
            for (int pass = 0; pass < WINDOW_PASSES && from != Long.MIN_VALUE && from + span <= newest + SLACK_MS;
                 pass++, span *= 4) {
                String high = EventIds.floor(from + span);
                if (q.before() != null && q.before().compareTo(high) <= 0) {
                    break; // the query's own bound is nearer
                }
                forwardBand(files, q, c, tokens, lowMillis, low, high);
                if (c.full()) {
                    return c.page();
                }
                low = high;
                lowMillis = from + span;
            }
            forwardBand(files, q, c, tokens, lowMillis, low, null);
            return c.page();
        }
        files.sort(Comparator.comparingLong(Candidate::modified).reversed());
        long top = q.before() == null ? Math.max(newest, System.currentTimeMillis())
                : EventIds.millis(q.before()).orElse(Long.MIN_VALUE);
        String high = null;
        long span = WINDOW_MS;
        for (int pass = 0; pass < WINDOW_PASSES && top != Long.MIN_VALUE; pass++, span *= 4) {
            String low = EventIds.floor(top - span);
            backwardBand(files, q, c, tokens, top - span, low, high);
            if (c.full()) {
                return c.page();
            }
            high = low;
        }
        backwardBand(files, q, c, tokens, Long.MIN_VALUE, null, high);
        return c.page();
    }

    private record Candidate(Path file, long modified) {
    }

    /** Events with ids from {@code low} to below {@code high} (nulls: unbounded), in files written since then. */
    private void forwardBand(List<Candidate> files, EventQuery q, Collector c, byte[][] tokens, long lowMillis,
                             String low, String high) {
        for (Candidate f : files) {
            if (lowMillis == Long.MIN_VALUE || f.modified() >= lowMillis - SLACK_MS) {
                scan(f.file(), q, c, tokens, low, high);
            }
        }
    }

    /** Events with ids above {@code low} and below {@code high} (nulls: unbounded), newest files first. */
    private void backwardBand(List<Candidate> newestFirst, EventQuery q, Collector c, byte[][] tokens,
                              long lowMillis, String low, String high) {
        for (Candidate f : newestFirst) {
            Instant oldest = c.oldestKeptWhenFull();
            long bound = oldest != null ? oldest.toEpochMilli() : lowMillis;
            if (bound != Long.MIN_VALUE && f.modified() < bound - SLACK_MS) {
                break; // this file and every one after it was last written before anything the band can take
            }
            scan(f.file(), q, c, tokens, low, high);
        }
    }

    /** The page of one conversation. */
    EventPage page(String conversationId, EventQuery q) {
        Collector c = new Collector(q);
        scan(layout.file(conversationId), q, c, LineSeek.typeTokens(q.types()), null, null);
        return c.page();
    }

    /** The time the page starts from (its ids were made then or later), or {@code Long.MIN_VALUE} if unknown. */
    private static long lowerBoundMillis(EventQuery q) {
        long lower = q.since() == null ? Long.MIN_VALUE : q.since().toEpochMilli() - SLACK_MS;
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

    /** Reads one file's part of a band: ids from {@code low} (inclusive) to {@code high} (exclusive), nulls open. */
    private void scan(Path file, EventQuery q, Collector c, byte[][] tokens, String low, String high) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (q.forward()) {
                forward(file, ch, size, q, c, tokens, low, high);
            } else {
                backward(file, ch, size, q, c, tokens, low, high);
            }
        } catch (NoSuchFileException archivedMeanwhile) {
            // nothing to read
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + WriteFaults.reason(e), e);
        }
    }

    private static void forward(Path file, FileChannel ch, long size, EventQuery q, Collector c, byte[][] tokens,
                                String low, String high) throws IOException {
        long start = 0;
        if (low != null) {
            start = LineSeek.first(ch, size, line -> {
                String id = LineSeek.idOf(line);
                return id == null ? null : id.compareTo(low) < 0;
            });
        }
        if (q.after() != null) {
            String after = q.after();
            start = Math.max(start, LineSeek.first(ch, size, line -> {
                String id = LineSeek.idOf(line);
                return id == null ? null : id.compareTo(after) <= 0;
            }));
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
            if (id != null && (beyond(id, q.before()) || beyond(id, high) || !c.wants(id))) {
                break; // ids only grow from here
            }
            if (id != null && !LineSeek.mayBeOfType(line, tokens)) {
                continue;
            }
            Event e = EventCodec.fromLineOrSkip(line, file);
            if (e == null) {
                continue;
            }
            if (beyond(e.id(), q.before()) || beyond(e.id(), high) || !c.wants(e.id())) {
                break;
            }
            if (q.matches(e)) {
                c.add(e, line.length);
            }
        }
    }

    private static void backward(Path file, FileChannel ch, long size, EventQuery q, Collector c, byte[][] tokens,
                                 String low, String high) throws IOException {
        long end = size;
        String before = q.before() == null ? high : high == null || q.before().compareTo(high) < 0 ? q.before() : high;
        if (before != null) {
            end = LineSeek.first(ch, size, line -> {
                String id = LineSeek.idOf(line);
                return id == null ? null : id.compareTo(before) < 0;
            });
        }
        BackwardLines lines = new BackwardLines(ch, end);
        for (byte[] line; (line = lines.previous()) != null; ) {
            String id = LineSeek.id(line);
            if (id != null && (below(id, low) || !c.wants(id))) {
                break; // ids only shrink from here
            }
            if (id != null && !LineSeek.mayBeOfType(line, tokens)) {
                continue;
            }
            Event e = EventCodec.fromLineOrSkip(line, file);
            if (e == null) {
                continue;
            }
            if (below(e.id(), low) || !c.wants(e.id())) {
                break;
            }
            if (q.matches(e)) {
                c.add(e, line.length);
            }
        }
    }

    /** At or past an exclusive upper bound (null: none). */
    private static boolean beyond(String id, String bound) {
        return bound != null && id.compareTo(bound) >= 0;
    }

    /** Below an inclusive lower bound (null: none). */
    private static boolean below(String id, String bound) {
        return bound != null && id.compareTo(bound) < 0;
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

        /** Whether the page is full: it holds more than it shows, or was cut short by its bytes. */
        boolean full() {
            return trimmed || heap.size() >= capacity;
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
