package io.streamingllm.core.engine.openai;

import java.nio.charset.StandardCharsets;

/**
 * The fast path for the events that make up almost all of a streamed chat completion:
 * {@code {"id":"…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,
 * "delta":{"content":"…"},"logprobs":null,"finish_reason":null}]}}. Reads the content delta straight from the bytes,
 * without building a JSON tree (the tree cost the engine half again the CPU per token of the Ollama engine). Accepts
 * only a strict subset of JSON: compact, one choice, a delta of string fields, {@code finish_reason} and {@code usage}
 * null, every other field a string, number or null, no {@code error}. Anything else (the finish chunk, the usage
 * chunk, llama-server's {@code timings}, an error, a malformed event) is left to the full parser, so the outcome is
 * the same as parsing every event fully.
 */
final class PlainChunks {
    private static final byte[] CHOICES = ascii("choices");
    private static final byte[] DELTA = ascii("delta");
    private static final byte[] CONTENT = ascii("content");
    private static final byte[] FINISH_REASON = ascii("finish_reason");
    private static final byte[] USAGE = ascii("usage");
    private static final byte[] ERROR = ascii("error");
    private static final byte[] NULL = ascii("null");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");

    private final byte[] b;
    private final int end;
    private int pos;

    private PlainChunks(byte[] b, int from, int length) {
        this.b = b;
        this.pos = from;
        this.end = from + length;
    }

    /**
     * The {@code choices[0].delta.content} of a plain chunk in {@code json[from, from + length)}, "" when it has none,
     * or null when the event needs the full JSON parser.
     */
    static String delta(byte[] json, int from, int length) {
        try {
            return new PlainChunks(json, from, length).chunk();
        } catch (NotPlain e) {
            return null;
        }
    }

    private String chunk() {
        expect('{');
        String content = null;
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            if (is(keyStart, keyEnd, CHOICES)) {
                expect('[');
                content = choice();
                expect(']');
            } else if (is(keyStart, keyEnd, USAGE)) {
                literal(NULL);
            } else if (is(keyStart, keyEnd, ERROR)) {
                throw NotPlain.INSTANCE;
            } else {
                scalar();
            }
        } while (accept(','));
        expect('}');
        if (pos != end || content == null) {
            throw NotPlain.INSTANCE;
        }
        return content;
    }

    /** The one choice: its delta's content ("" when absent); its finish_reason must be null. */
    private String choice() {
        expect('{');
        String content = "";
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            if (is(keyStart, keyEnd, DELTA)) {
                content = delta();
            } else if (is(keyStart, keyEnd, FINISH_REASON)) {
                literal(NULL);
            } else {
                scalar();
            }
        } while (accept(','));
        expect('}');
        return content;
    }

    private String delta() {
        expect('{');
        String content = "";
        if (accept('}')) {
            return content;
        }
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            if (is(keyStart, keyEnd, CONTENT)) {
                content = peek() == 'n' ? nullAsEmpty() : string();
            } else {
                scalar();
            }
        } while (accept(','));
        expect('}');
        return content;
    }

    private String nullAsEmpty() {
        literal(NULL);
        return "";
    }

    /** A string, number, true, false or null; objects and arrays are not plain. */
    private void scalar() {
        int c = peek();
        if (c == '"') {
            skipString(false);
        } else if (c == 'n') {
            literal(NULL);
        } else if (c == 't') {
            literal(TRUE);
        } else if (c == 'f') {
            literal(FALSE);
        } else if (c == '-' || c >= '0' && c <= '9') {
            int start = pos;
            while (pos < end && (b[pos] >= '0' && b[pos] <= '9' || b[pos] == '-' || b[pos] == '+' || b[pos] == '.'
                    || b[pos] == 'e' || b[pos] == 'E')) {
                pos++;
            }
            if (pos == start) {
                throw NotPlain.INSTANCE;
            }
        } else {
            throw NotPlain.INSTANCE;
        }
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

    /** The next byte (negative for bytes of multi-byte UTF-8 sequences); the end of the event is not plain. */
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

    /** Thrown (preallocated, without a stack trace) where the event leaves the fast path. */
    private static final class NotPlain extends RuntimeException {
        static final NotPlain INSTANCE = new NotPlain();

        private NotPlain() {
            super("not a plain chat chunk", null, false, false);
        }
    }
}
