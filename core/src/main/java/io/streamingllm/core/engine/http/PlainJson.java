package io.streamingllm.core.engine.http;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over one streamed record's bytes for the engines' fast paths (Ollama's NDJSON chunks, OpenAI's SSE
 * chunks): it reads the strict subset of JSON those records use (compact, plain keys, string values) straight
 * from the bytes, without building a JSON tree, and throws {@link NotPlain} wherever a record leaves that subset,
 * so that the caller hands it to the full JSON parser and the outcome is the same as parsing every record fully.
 *
 * <p>One instance per record, on one thread.
 */
public abstract class PlainJson {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long QUOTES = ONES * '"';
    private static final long BACKSLASHES = ONES * '\\';
    private static final long SPACES = ONES * 0x20;

    protected final byte[] b;
    protected final int end;
    protected int pos;

    /** Reads {@code b[from, from + length)}. */
    protected PlainJson(byte[] b, int from, int length) {
        this.b = b;
        this.pos = from;
        this.end = from + length;
    }

    /** Skips a string; a key must be plain (no escapes), so that it can be compared byte for byte. */
    protected final void skipString(boolean key) {
        expect('"');
        while (true) {
            pos = plainRunEnd(pos);
            int c = next();
            if (c == '"') {
                return;
            }
            if (c < 0x20 || key) {
                throw NotPlain.INSTANCE;
            }
            escape(null);
        }
    }

    /** Reads a string value: plain runs decoded as UTF-8 in one go, escapes as JSON defines them. */
    protected final String string() {
        expect('"');
        int start = pos;
        StringBuilder sb = null;
        while (true) {
            int runEnd = plainRunEnd(pos);
            pos = runEnd;
            int c = next();
            if (c == '"') {
                // the JDK's UTF-8 decoding checks for ASCII itself (an intrinsic), so no pass of our own for it
                if (sb == null) {
                    return new String(b, start, runEnd - start, StandardCharsets.UTF_8);
                }
                return sb.append(new String(b, start, runEnd - start, StandardCharsets.UTF_8)).toString();
            }
            if (c < 0x20) {
                throw NotPlain.INSTANCE;
            }
            if (sb == null) {
                sb = new StringBuilder(Math.max(16, 2 * (end - start)));
            }
            sb.append(new String(b, start, runEnd - start, StandardCharsets.UTF_8));
            escape(sb);
            start = pos;
        }
    }

    /**
     * The end of the run of string bytes from {@code i} that need no attention: the index of the first quote,
     * backslash or control byte (below 0x20), or {@code end}. Eight bytes a step (a history's contents are most of a
     * {@code /v1} body): each test below sets a byte's high bit where the byte matches, exactly for the lowest match
     * in the word (a subtraction borrows only out of a matching byte, so it can mark bytes above a real match but
     * never below), and the lowest marked byte is the first stop. Bytes of 0x80 and above never match: XOR with an
     * ASCII byte keeps their high bit, and the complement ({@code ~q}, {@code ~bs}, {@code ~w}) clears it.
     */
    private int plainRunEnd(int i) {
        while (i + 8 <= end) {
            long w = (long) LONGS.get(b, i);
            long q = w ^ QUOTES;
            long bs = w ^ BACKSLASHES;
            long stops = ((q - ONES) & ~q | (bs - ONES) & ~bs | (w - SPACES) & ~w) & HIGHS;
            if (stops != 0) {
                return i + (Long.numberOfTrailingZeros(stops) >>> 3);
            }
            i += 8;
        }
        while (i < end) {
            int c = b[i];
            if (c == '"' || c == '\\' || (c >= 0 && c < 0x20)) {
                return i;
            }
            i++;
        }
        return i;
    }

    /** After a backslash: appends the escaped char to {@code into} (or only checks it when null). */
    private void escape(StringBuilder into) {
        int c = next();
        char out = switch (c) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '/' -> '/';
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> (char) ((hex() << 12) | (hex() << 8) | (hex() << 4) | hex());
            default -> throw NotPlain.INSTANCE;
        };
        if (into != null) {
            into.append(out);
        }
    }

    private int hex() {
        int c = next();
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        throw NotPlain.INSTANCE;
    }

    protected final void literal(byte[] word) {
        if (end - pos < word.length) {
            throw NotPlain.INSTANCE;
        }
        for (byte w : word) {
            if (b[pos++] != w) {
                throw NotPlain.INSTANCE;
            }
        }
    }

    protected final boolean is(int from, int to, byte[] word) {
        if (to - from != word.length) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            if (b[from + i] != word[i]) {
                return false;
            }
        }
        return true;
    }

    /** The next byte (negative for bytes of multi-byte UTF-8 sequences); the end of the record is not plain. */
    protected final int next() {
        if (pos >= end) {
            throw NotPlain.INSTANCE;
        }
        return b[pos++];
    }

    protected final int peek() {
        if (pos >= end) {
            throw NotPlain.INSTANCE;
        }
        return b[pos];
    }

    protected final void expect(char c) {
        if (next() != c) {
            throw NotPlain.INSTANCE;
        }
    }

    protected final boolean accept(char c) {
        if (pos < end && b[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    protected static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Thrown (preallocated, without a stack trace) where a record leaves the fast path. */
    public static final class NotPlain extends RuntimeException {
        public static final NotPlain INSTANCE = new NotPlain();

        private NotPlain() {
            super("not a plain chat chunk", null, false, false);
        }
    }
}
