package io.streamingllm.core.engine.ollama;

import java.nio.charset.StandardCharsets;

/**
 * The fast path for the records that make up almost all of an Ollama {@code /api/chat} stream:
 * {@code {"model":"…","created_at":"…","message":{"role":"assistant","content":"…"},"done":false}}.
 * Reads the content delta straight from the line's bytes, without building a JSON tree. Accepts only a
 * strict subset of JSON (compact, string-valued fields, {@code "done":false}, no {@code "error"}); anything
 * else, including every final record and every malformed line, is left to the full JSON parser, so the
 * outcome is the same as parsing every line fully.
 */
final class ChatChunks {
    private static final byte[] MESSAGE = ascii("message");
    private static final byte[] CONTENT = ascii("content");
    private static final byte[] DONE = ascii("done");
    private static final byte[] ERROR = ascii("error");
    private static final byte[] FALSE = ascii("false");

    private final byte[] b;
    private final int end;
    private int pos;

    private ChatChunks(byte[] b, int from, int length) {
        this.b = b;
        this.pos = from;
        this.end = from + length;
    }

    /**
     * The {@code message.content} of a plain in-progress record in {@code line[from, from + length)}, "" when
     * it has none, or null when the line needs the full JSON parser.
     */
    static String delta(byte[] line, int from, int length) {
        try {
            return new ChatChunks(line, from, length).record();
        } catch (NotPlain e) {
            return null;
        }
    }

    private String record() {
        expect('{');
        String content = "";
        boolean done = false;
        if (peek() != '}') {
            do {
                int keyStart = pos + 1;
                skipString(true);
                int keyEnd = pos - 1;
                expect(':');
                if (is(keyStart, keyEnd, MESSAGE)) {
                    content = message();
                } else if (is(keyStart, keyEnd, DONE)) {
                    literal(FALSE);
                    done = true;
                } else if (is(keyStart, keyEnd, ERROR)) {
                    throw NotPlain.INSTANCE;
                } else {
                    skipString(false);
                }
            } while (accept(','));
        }
        expect('}');
        if (pos != end || !done) {
            throw NotPlain.INSTANCE;
        }
        return content;
    }

    /** The message object: string-valued fields only; its content, "" when absent. */
    private String message() {
        expect('{');
        String content = "";
        if (peek() != '}') {
            do {
                int keyStart = pos + 1;
                skipString(true);
                int keyEnd = pos - 1;
                expect(':');
                if (is(keyStart, keyEnd, CONTENT)) {
                    content = string();
                } else {
                    skipString(false);
                }
            } while (accept(','));
        }
        expect('}');
        return content;
    }

    /** Skips a string; a key must be plain (no escapes), so that it can be compared byte for byte. */
    private void skipString(boolean key) {
        expect('"');
        while (true) {
            int c = next();
            if (c == '"') {
                return;
            }
            if (c < 0x20 && c >= 0 || c == '\\' && key) {
                throw NotPlain.INSTANCE;
            }
            if (c == '\\') {
                escape(null);
            }
        }
    }

    /** Reads a string value: plain runs decoded as UTF-8 in one go, escapes as JSON defines them. */
    private String string() {
        expect('"');
        int start = pos;
        StringBuilder sb = null;
        boolean ascii = true;
        while (true) {
            int c = next();
            if (c == '"') {
                int runEnd = pos - 1;
                if (sb == null) {
                    return new String(b, start, runEnd - start, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
                }
                return sb.append(new String(b, start, runEnd - start, StandardCharsets.UTF_8)).toString();
            }
            if (c < 0) {
                ascii = false;
            } else if (c < 0x20) {
                throw NotPlain.INSTANCE;
            } else if (c == '\\') {
                if (sb == null) {
                    sb = new StringBuilder(Math.max(16, 2 * (end - start)));
                }
                sb.append(new String(b, start, pos - 1 - start, StandardCharsets.UTF_8));
                escape(sb);
                start = pos;
            }
        }
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

    private void literal(byte[] word) {
        if (end - pos < word.length) {
            throw NotPlain.INSTANCE;
        }
        for (byte w : word) {
            if (b[pos++] != w) {
                throw NotPlain.INSTANCE;
            }
        }
    }

    private boolean is(int from, int to, byte[] word) {
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

    /** The next byte (negative for bytes of multi-byte UTF-8 sequences); the end of the line is not plain. */
    private int next() {
        if (pos >= end) {
            throw NotPlain.INSTANCE;
        }
        return b[pos++];
    }

    private int peek() {
        if (pos >= end) {
            throw NotPlain.INSTANCE;
        }
        return b[pos];
    }

    private void expect(char c) {
        if (next() != c) {
            throw NotPlain.INSTANCE;
        }
    }

    private boolean accept(char c) {
        if (pos < end && b[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Thrown (preallocated, without a stack trace) where the line leaves the fast path. */
    private static final class NotPlain extends RuntimeException {
        static final NotPlain INSTANCE = new NotPlain();

        private NotPlain() {
            super("not a plain chat chunk", null, false, false);
        }
    }
}
