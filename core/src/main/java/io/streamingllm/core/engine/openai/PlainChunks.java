package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.http.PlainJson;

import java.util.Arrays;

/**
 * The fast path for the events that make up almost all of a streamed chat completion:
 * {@code {"id":"…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,
 * "delta":{"content":"…"},"logprobs":null,"finish_reason":null}]}}. Reads the content delta straight from the bytes,
 * without building a JSON tree (the tree cost the engine half again the CPU per token of the Ollama engine). Accepts
 * only a strict subset of JSON: compact, one choice, a delta of string fields, {@code finish_reason} and {@code usage}
 * null, every other field a string, number or null, no {@code error}, an {@code object} other than {@code error}.
 * {@link #last} reads the finish chunk and the usage chunk the same way (a string {@code finish_reason}, a usage
 * object of integer counts, empty {@code choices}). Anything else (tool-call fragments, llama-server's
 * {@code timings}, usage details, an error, a malformed event) is left to the full parser, so the outcome is the same
 * as parsing every event fully.
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
    private static final byte[] PROMPT_TOKENS = ascii("prompt_tokens");
    private static final byte[] COMPLETION_TOKENS = ascii("completion_tokens");
    /**
     * A template that missed this many plain chunks in a row is dropped: the server varies more than the content (a
     * per-chunk random field), and learning each chunk would only add a copy to each.
     */
    private static final int MAX_RELEARNED = 16;

    /** Where the content string of the last choice's delta starts and ends ({@code -1}: no string content). */
    private int contentStart = -1;
    private int contentEnd = -1;

    /** Whether a finish reason, a usage object and empty choices are read too (else they are not plain). */
    private final boolean last;
    /** The finish reason of the last choice read, null when none; {@code last} chunks only. */
    private String finish;
    /** The last {@code usage} object's fields, -1 where absent; {@code usage} false when the last was null or none. */
    private boolean usage;
    private int promptTokens = -1;
    private int completionTokens = -1;

    private PlainChunks(byte[] b, int from, int length) {
        this(b, from, length, false);
    }

    private PlainChunks(byte[] b, int from, int length, boolean last) {
        super(b, from, length);
        this.last = last;
    }

    /**
     * What a plain chunk that may end a choice says: the content (null when the chunk has no choice, "" when the
     * choice has no content), the finish reason (null: none), and the usage's token counts (-1 where absent;
     * {@code usage} false when the chunk has no usage object).
     */
    record Last(String content, String finish, boolean usage, int promptTokens, int completionTokens) {
    }

    /**
     * The finish chunk or the usage chunk, read as {@link #delta} reads the others: a finish reason that is a
     * string, a usage object of integer fields, empty choices. Null when the chunk needs the full JSON parser.
     */
    static Last last(byte[] json, int from, int length) {
        PlainChunks chunk = new PlainChunks(json, from, length, true);
        try {
            String content = chunk.chunk();
            return new Last(content, chunk.finish, chunk.usage, chunk.promptTokens, chunk.completionTokens);
        } catch (NotPlain e) {
            return null;
        }
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
                if (last && accept(']')) {
                    content = null; // as the full reading: the last choices is the one read
                    finish = null;
                } else {
                    content = choice();
                    expect(']');
                }
            } else if (is(keyStart, keyEnd, USAGE)) {
                if (last && peek() == '{') {
                    usage();
                } else {
                    literal(NULL);
                    usage = false;
                    promptTokens = -1;
                    completionTokens = -1;
                }
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
        if (pos != end || content == null && !last) {
            throw NotPlain.INSTANCE;
        }
        return content;
    }

    /** A usage object of integer fields: the last of each key counts, as in the full reading. */
    private void usage() {
        expect('{');
        usage = true;
        promptTokens = -1;
        completionTokens = -1;
        if (accept('}')) {
            return;
        }
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            int value = count();
            if (is(keyStart, keyEnd, PROMPT_TOKENS)) {
                promptTokens = value;
            } else if (is(keyStart, keyEnd, COMPLETION_TOKENS)) {
                completionTokens = value;
            }
        } while (accept(','));
        expect('}');
    }

    /** A non-negative integer of at most nine digits, without sign, fraction or exponent (anything else: not plain). */
    private int count() {
        int c = next();
        if (c < '0' || c > '9') {
            throw NotPlain.INSTANCE;
        }
        int value = c - '0';
        if (value == 0) {
            return 0;
        }
        for (int digits = 1; pos < end && b[pos] >= '0' && b[pos] <= '9'; digits++) {
            if (digits == 9) {
                throw NotPlain.INSTANCE;
            }
            value = value * 10 + b[pos++] - '0';
        }
        return value;
    }

    /** The one choice: its delta's content ("" when absent); its finish_reason must be null. */
    private String choice() {
        expect('{');
        String content = "";
        contentStart = -1;
        finish = null;
        do {
            int keyStart = pos + 1;
            skipString(true);
            int keyEnd = pos - 1;
            expect(':');
            if (is(keyStart, keyEnd, DELTA)) {
                content = delta();
            } else if (is(keyStart, keyEnd, FINISH_REASON)) {
                if (last && peek() == '"') {
                    finish = string();
                } else {
                    literal(NULL);
                    finish = null;
                }
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
