package io.streamingllm.server.stream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable UTF-8 byte buffer for the records of a streamed reply, reused batch after batch: a format that knows
 * its records' bytes writes them here directly, without a string in between. {@link #appendQuoted} gives the bytes
 * of {@code JsonText.quoteInto} encoded as UTF-8, an unpaired surrogate included (as {@code ?}, as
 * {@link String#getBytes} writes it), so that the wire does not change with the path a record took.
 *
 * <p>One per writer; not thread-safe.
 */
public final class Utf8Buffer {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private byte[] bytes;
    private int length;

    public Utf8Buffer(int capacity) {
        bytes = new byte[capacity];
    }

    public byte[] array() {
        return bytes;
    }

    public int length() {
        return length;
    }

    public void clear() {
        length = 0;
    }

    public void append(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
    }

    /** {@code s} as a JSON string literal, quotes included, in UTF-8. */
    public void appendQuoted(String s) {
        int n = s.length();
        ensure(n * 6 + 2); // the longest form of a char: a six-byte escape or three UTF-8 bytes
        byte[] b = bytes;
        int p = length;
        b[p++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                b[p++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                b[p++] = '\\';
                b[p++] = (byte) c;
            } else if (c == '\n') {
                b[p++] = '\\';
                b[p++] = 'n';
            } else if (c == '\r') {
                b[p++] = '\\';
                b[p++] = 'r';
            } else if (c == '\t') {
                b[p++] = '\\';
                b[p++] = 't';
            } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                b[p++] = '\\';
                b[p++] = 'u';
                b[p++] = HEX[(c >> 12) & 0xf];
                b[p++] = HEX[(c >> 8) & 0xf];
                b[p++] = HEX[(c >> 4) & 0xf];
                b[p++] = HEX[c & 0xf];
            } else if (c < 0x800) {
                b[p++] = (byte) (0xc0 | c >> 6);
                b[p++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                b[p++] = (byte) (0xf0 | cp >> 18);
                b[p++] = (byte) (0x80 | cp >> 12 & 0x3f);
                b[p++] = (byte) (0x80 | cp >> 6 & 0x3f);
                b[p++] = (byte) (0x80 | cp & 0x3f);
            } else if (Character.isSurrogate(c)) {
                b[p++] = '?';
            } else {
                b[p++] = (byte) (0xe0 | c >> 12);
                b[p++] = (byte) (0x80 | c >> 6 & 0x3f);
                b[p++] = (byte) (0x80 | c & 0x3f);
            }
        }
        b[p++] = '"';
        length = p;
    }

    /** The text of {@code sb} in UTF-8. */
    public void append(StringBuilder sb) {
        if (!sb.isEmpty()) {
            append(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
