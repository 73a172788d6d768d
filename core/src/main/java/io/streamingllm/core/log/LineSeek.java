package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Finding a place in a log file without reading it all, and looking into a line without parsing it. A file's lines
 * are in id order and near enough in time order (see {@link EventQuery}), so the first line past a cursor or a time
 * is found by bisection: O(log n) line reads instead of the whole file. Stateless; safe from any thread.
 */
final class LineSeek {
    /** Below this many bytes, a linear scan is cheaper than more probes. */
    private static final int LINEAR = 64 * 1024;
    /** How {@link EventCodec} starts every line: the id comes first, compact. */
    private static final byte[] ID_PREFIX = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);

    private LineSeek() {
    }

    /**
     * The start of the first line in {@code [0, end)} for which {@code before} is false ({@code end} if none),
     * assuming {@code before} holds for a prefix of the lines. {@code before} returns null for a line it cannot
     * judge (malformed): the search then scans linearly from what it knows, taking such lines as before.
     */
    static long first(FileChannel ch, long end, Function<byte[], Boolean> before) throws IOException {
        long lo = 0; // a line start: every line that starts before it is before
        long hi = end; // a line start or the end: no line that starts at or after it is before
        while (hi - lo > LINEAR) {
            long mid = lo + (hi - lo) / 2;
            long start = lineStartAfter(ch, mid, hi);
            if (start < 0) {
                break; // one long line from mid to hi: scan
            }
            byte[] line = lineAt(ch, start, hi);
            Boolean b = line == null ? null : before.apply(line);
            if (b == null) {
                break;
            }
            if (b) {
                lo = start + line.length + 1;
            } else {
                hi = start;
            }
        }
        for (long at = lo; at < hi; ) {
            byte[] line = lineAt(ch, at, hi);
            if (line == null) {
                return hi;
            }
            if (Boolean.FALSE.equals(before.apply(line))) {
                return at;
            }
            at += line.length + 1;
        }
        return hi;
    }

    /**
     * The event id at the start of a line written by {@link EventCodec}, without parsing the line; null when the line
     * does not start that way or the id holds an escape.
     */
    static String id(byte[] line) {
        if (line.length <= ID_PREFIX.length || !Arrays.equals(line, 0, ID_PREFIX.length, ID_PREFIX, 0, ID_PREFIX.length)) {
            return null;
        }
        for (int i = ID_PREFIX.length; i < line.length; i++) {
            byte b = line[i];
            if (b == '"') {
                return new String(line, ID_PREFIX.length, i - ID_PREFIX.length, StandardCharsets.UTF_8);
            }
            if (b == '\\') {
                return null;
            }
        }
        return null;
    }

    /** The line's event id, read without parsing where it can be; null for a line that is not an event. */
    static String idOf(byte[] line) {
        String id = id(line);
        if (id != null) {
            return id;
        }
        try {
            return EventCodec.fromLine(line).id();
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }

    /**
     * False only when the line, as {@link EventCodec} writes it, cannot be of any of these types: its bytes lack every
     * {@code "type":"NAME"}. Lines written otherwise (spaces, another field order) are always worth parsing.
     */
    static boolean mayBeOfType(byte[] line, byte[][] typeTokens) {
        if (typeTokens.length == 0 || id(line) == null) {
            return true;
        }
        for (byte[] token : typeTokens) {
            if (indexOf(line, token) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code "type":"NAME"} for each type, as the codec writes it. */
    static byte[][] typeTokens(Iterable<EventType> types) {
        List<byte[]> tokens = new ArrayList<>();
        for (EventType t : types) {
            tokens.add(("\"type\":\"" + t.name() + "\"").getBytes(StandardCharsets.US_ASCII));
        }
        return tokens.toArray(new byte[0][]);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The first position in {@code (from, end)} right after a newline, or -1. */
    private static long lineStartAfter(FileChannel ch, long from, long end) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        for (long at = from; at < end - 1; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), end - 1 - at));
            int n = ch.read(buf, at);
            if (n <= 0) {
                return -1;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) == '\n') {
                    return at + i + 1;
                }
            }
            at += n;
        }
        return -1;
    }

    /** The line starting at {@code start} without its newline, or null when no newline ends it before {@code end}. */
    private static byte[] lineAt(FileChannel ch, long start, long end) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(4096, Math.max(1, end - start)));
        byte[] line = new byte[0];
        for (long at = start; at < end; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), end - at));
            int n = ch.read(buf, at);
            if (n <= 0) {
                return null;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) == '\n') {
                    int old = line.length;
                    line = Arrays.copyOf(line, old + i);
                    buf.get(0, line, old, i);
                    return line;
                }
            }
            int old = line.length;
            line = Arrays.copyOf(line, old + n);
            buf.get(0, line, old, n);
            at += n;
            if (buf.capacity() < 1 << 20) {
                buf = ByteBuffer.allocate(buf.capacity() * 2);
            }
        }
        return null;
    }
}
