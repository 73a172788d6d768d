package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.http.PlainJson;

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
}
