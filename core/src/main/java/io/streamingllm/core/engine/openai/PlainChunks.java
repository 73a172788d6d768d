package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.http.PlainJson;

import java.util.Arrays;

/**
 * The fast path for the events that make up almost all of a streamed chat completion:
 * {@code {"id":"…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,
 * "delta":{"content":"…"},"logprobs":null,"finish_reason":null}]}}. Reads the content delta straight from the bytes,
 * without building a JSON tree (the tree cost the engine half again the CPU per token of the Ollama engine). Accepts
 * only a strict subset of JSON: compact, one choice, a delta of string fields, {@code finish_reason} and {@code usage}
 * null, every other field a string, number or null, no {@code error}. Anything else (the finish chunk, the usage
 * chunk, llama-server's {@code timings}, an error, a malformed event) is left to the full parser, so the outcome is
 * the same as parsing every event fully.
 *
 * <p>A stream's plain chunks differ, as a rule, only in their content: {@link Template} keeps the bytes of the last
 * plain chunk before and after its content string, and reads a chunk that has the same bytes around a valid string
 * by comparing them and reading the string alone. Equal bytes around any valid JSON string parse the same way, so
 * this gives what the key-by-key reading gives.
 */
final class PlainChunks extends PlainJson {
    private static final byte[] CHOICES = ascii("choices");
    private static final byte[] DELTA = ascii("delta");
    private static final byte[] CONTENT = ascii("content");
    private static final byte[] FINISH_REASON = ascii("finish_reason");
    private static final byte[] USAGE = ascii("usage");
    private static final byte[] ERROR = ascii("error");
    private static final byte[] NULL = ascii("null");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[] OBJECT = ascii("object");
    /**
     * A template that missed this many plain chunks in a row is dropped: the server varies more than the content (a
     * per-chunk random field), and learning each chunk would only add a copy to each.
     */
    private static final int MAX_RELEARNED = 16;

    /** Where the content string of the last choice's delta starts and ends ({@code -1}: no string content). */
    private int contentStart = -1;
    private int contentEnd = -1;

    private PlainChunks(byte[] b, int from, int length) {
        super(b, from, length);
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

    /**
     * One stream's plain chunks: the bytes before and after the content string of the last plain chunk read, so that
     * the next chunk with the same bytes around its content is read by two comparisons and the string. Not
     * thread-safe: one stream's events arrive one at a time.
     */
    static final class Template {
        private byte[] prefix = new byte[0];
        private byte[] suffix = new byte[0];
        private boolean learned;
        private boolean dropped;
        /** Plain chunks in a row that the template did not match. */
        private int relearned;
        private long hits;

        /** As {@link PlainChunks#delta}, the same result for every input. */
        String delta(byte[] json, int from, int length) {
            if (learned) {
                String content = matched(json, from, length);
                if (content != null) {
                    relearned = 0;
                    hits++;
                    return content;
                }
            }
            PlainChunks chunk = new PlainChunks(json, from, length);
            String content;
            try {
                content = chunk.chunk();
            } catch (NotPlain e) {
                return null;
            }
            if (chunk.contentStart >= 0 && !dropped) {
                if (learned && ++relearned >= MAX_RELEARNED) {
                    learned = false;
                    dropped = true;
                    return content;
                }
                prefix = Arrays.copyOfRange(json, from, chunk.contentStart);
                suffix = Arrays.copyOfRange(json, chunk.contentEnd, from + length);
                learned = true;
            }
            return content;
        }

        /** Chunks read by the template alone. */
        long hits() {
            return hits;
        }

        /** The content when the chunk is the template's bytes around a valid string, else null. */
        private String matched(byte[] json, int from, int length) {
            int stringStart = from + prefix.length;
            int stringEnd = from + length - suffix.length;
            if (stringEnd - stringStart < 2
                    || !Arrays.equals(json, from, stringStart, prefix, 0, prefix.length)
                    || !Arrays.equals(json, stringEnd, from + length, suffix, 0, suffix.length)) {
                return null;
            }
            PlainChunks string = new PlainChunks(json, stringStart, stringEnd - stringStart);
            try {
                String content = string.string();
                return string.pos == stringEnd ? content : null;
            } catch (NotPlain e) {
                return null;
            }
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
            } else if (is(keyStart, keyEnd, OBJECT) && peek() == '"') {
                if ("error".equals(string())) {
                    throw NotPlain.INSTANCE; // an error record, as the full reading tells it
                }
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
        contentStart = -1;
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
        contentStart = -1;
        if (accept('}')) {
            return content;
        }
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            if (is(keyStart, keyEnd, CONTENT)) {
                if (peek() == 'n') {
                    content = nullAsEmpty();
                    contentStart = -1;
                } else {
                    contentStart = pos;
                    content = string();
                    contentEnd = pos;
                }
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
}
