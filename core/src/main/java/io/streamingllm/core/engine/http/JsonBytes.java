package io.streamingllm.core.engine.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A request body written as UTF-8 JSON in one pass over its strings, straight from chars into a byte array sized
 * by the caller from its inputs. The engines' request writers run once per call over the whole prompt window,
 * where a JSON generator and its writer cost several times as much.
 *
 * <p>Strings are escaped as RFC 8259 requires ({@code "}, {@code \}, control chars) and nothing more, like
 * Parsson. An unpaired surrogate becomes U+FFFD, which is what a JSON reader makes of it; the bytes are then
 * always valid UTF-8. Not thread-safe: one body, one thread.
 */
public final class JsonBytes {
    /** The most bytes one char of a string can take escaped ({@code \u001f}). */
    public static final int MAX_BYTES_PER_CHAR = 6;
    /** How many chars of a string are encoded at a time; room for one chunk's worst case is made at once. */
    public static final int CHUNK_CHARS = 1024;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private byte[] buf;
    private int len;
    private final char[] chunk = new char[CHUNK_CHARS];

    public JsonBytes(int capacity) {
        this.buf = new byte[capacity];
    }

    /**
     * A capacity for a body of {@code chars} chars of strings plus {@code fixed} bytes of keys and punctuation:
     * mostly ASCII text with some newlines, quotes and non-ASCII letters, so 1/8 slack covers it, and one chunk's
     * worst case more lets the last chunk make its room without growing the array.
     */
    public static int capacity(long fixed, long chars) {
        return (int) Math.min(fixed + chars + chars / 8 + (long) MAX_BYTES_PER_CHAR * CHUNK_CHARS, Integer.MAX_VALUE - 8);
    }

    /** The bytes written so far (the array may be longer: {@link #length()} of it are the body). */
    public byte[] buffer() {
        return buf;
    }

    public int length() {
        return len;
    }

    /** Drops what was written after the first {@code length} bytes. */
    public void truncate(int length) {
        if (length < 0 || length > len) {
            throw new IllegalArgumentException("cannot truncate " + len + " bytes to " + length);
        }
        len = length;
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    /** Appends text known to be plain ASCII that needs no escaping: keys, punctuation, roles, numbers. */
    public void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    /** Appends bytes that are already JSON (a value another writer made). */
    public void raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
    }

    /**
     * Appends {@code s} as a quoted, escaped JSON string in UTF-8. The chars are copied out a chunk at a time and
     * room for a chunk's worst case is made once, so the per-char loop does no bounds bookkeeping and plain ASCII
     * (nearly all of a prompt) takes one compare and one store.
     */
    public void string(String s) {
        int n = s.length();
        ensure(1);
        buf[len++] = '"';
        char[] c = chunk;
        for (int from = 0; from < n; ) {
            int to = Math.min(n, from + c.length);
            if (to < n && Character.isHighSurrogate(s.charAt(to - 1))) {
                to--; // keep a surrogate pair in one chunk
            }
            int count = to - from;
            s.getChars(from, to, c, 0);
            ensure(MAX_BYTES_PER_CHAR * count + 1);
            byte[] b = buf;
            int p = len;
            for (int i = 0; i < count; i++) {
                char ch = c[i];
                if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
                    b[p++] = (byte) ch;
                } else if (ch < 0x80) {
                    p = ch < 0x20 ? control(b, p, ch) : escaped(b, p, ch);
                } else if (ch < 0x800) {
                    b[p++] = (byte) (0xC0 | ch >> 6);
                    b[p++] = (byte) (0x80 | ch & 0x3F);
                } else if (Character.isHighSurrogate(ch) && i + 1 < count && Character.isLowSurrogate(c[i + 1])) {
                    int cp = Character.toCodePoint(ch, c[++i]);
                    b[p++] = (byte) (0xF0 | cp >> 18);
                    b[p++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    b[p++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    b[p++] = (byte) (0x80 | cp & 0x3F);
                } else {
                    if (Character.isSurrogate(ch)) {
                        ch = '\uFFFD'; // unpaired: not encodable, a reader would substitute it the same way
                    }
                    b[p++] = (byte) (0xE0 | ch >> 12);
                    b[p++] = (byte) (0x80 | ch >> 6 & 0x3F);
                    b[p++] = (byte) (0x80 | ch & 0x3F);
                }
            }
            len = p;
            from = to;
        }
        buf[len++] = '"';
    }

    private static int escaped(byte[] b, int p, char c) {
        b[p++] = '\\';
        b[p++] = (byte) c;
        return p;
    }

    private static int control(byte[] b, int p, char c) {
        b[p++] = '\\';
        switch (c) {
            case '\n' -> b[p++] = 'n';
            case '\r' -> b[p++] = 'r';
            case '\t' -> b[p++] = 't';
            case '\b' -> b[p++] = 'b';
            case '\f' -> b[p++] = 'f';
            default -> {
                b[p++] = 'u';
                b[p++] = '0';
                b[p++] = '0';
                b[p++] = HEX[c >> 4];
                b[p++] = HEX[c & 0xF];
            }
        }
        return p;
    }

    private void ensure(int extra) {
        if (buf.length - len < extra) {
            int needed = len + extra;
            if (needed < 0) {
                throw new IllegalArgumentException("request body is too large to encode");
            }
            buf = Arrays.copyOf(buf, Math.max(needed, (int) Math.min(2L * buf.length, Integer.MAX_VALUE - 8)));
        }
    }
}
