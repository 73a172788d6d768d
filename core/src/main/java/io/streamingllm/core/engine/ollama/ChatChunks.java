package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.http.PlainJson;

/**
 * The fast path for the records that make up almost all of an Ollama {@code /api/chat} stream:
 * {@code {"model":"…","created_at":"…","message":{"role":"assistant","content":"…"},"done":false}}.
 * Reads the content delta straight from the line's bytes, without building a JSON tree. Accepts only a
 * strict subset of JSON (compact, string-valued fields, {@code "done":false}, no {@code "error"}); anything
 * else, including every final record and every malformed line, is left to the full JSON parser, so the
 * outcome is the same as parsing every line fully.
 */
final class ChatChunks extends PlainJson {
    private static final byte[] MESSAGE = ascii("message");
    private static final byte[] CONTENT = ascii("content");
    private static final byte[] DONE = ascii("done");
    private static final byte[] ERROR = ascii("error");
    private static final byte[] FALSE = ascii("false");

    private ChatChunks(byte[] b, int from, int length) {
        super(b, from, length);
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
}
