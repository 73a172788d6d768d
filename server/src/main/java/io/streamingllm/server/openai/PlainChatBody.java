package io.streamingllm.server.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.http.PlainJson;

import java.util.ArrayList;
import java.util.List;

/**
 * The fast path for the body of almost every {@code /v1/chat/completions} call: reads its {@code messages} straight
 * from the bytes, without building a JSON tree of the whole history (the tree was the largest single item in the
 * profile of the {@code /v1} sidecar: an OpenAI client posts every earlier turn on every call). Everything else in
 * the body is handed back as the body with {@code "messages":[]} in place of the history, small, for the full parser.
 *
 * <p>Accepts only a strict subset: a {@code messages} key written plainly (no escapes) once at the top level, a
 * non-empty array of messages whose role is system, developer, user or assistant (any case), whose content is a
 * string, null or an array of {@code {"type":"text","text"}} parts, and whose other fields are strings, booleans or
 * null (no {@code tool_calls}); duplicate keys count last, as in the full reading. Anything else (tool messages and
 * calls, other part types, a malformed or unusual body) is left to the full reading, so every request gets the same
 * messages, options and errors as before.
 *
 * <p>Why the rest stays equivalent: the other members are skipped leniently (strings read as JSON reads them, nested
 * brackets counted), so when the full parser accepts the rest, the skipped values were exactly its members and the
 * messages stood where the scan found them; the history itself is read strictly here.
 */
final class PlainChatBody extends PlainJson {
    private static final byte[] MESSAGES = ascii("messages");
    private static final byte[] ROLE = ascii("role");
    private static final byte[] CONTENT = ascii("content");
    private static final byte[] TOOL_CALLS = ascii("tool_calls");
    private static final byte[] TYPE = ascii("type");
    private static final byte[] TEXT = ascii("text");
    private static final byte[] NULL = ascii("null");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");

    /** The history, and the body without it ({@code "messages":[]}) for the options. */
    record Read(List<ChatMessage> messages, byte[] rest) {
    }

    private PlainChatBody(byte[] body) {
        super(body, 0, body.length);
    }

    /** The body's messages and the rest of it, or null when the body needs the full reading. */
    static Read read(byte[] body) {
        try {
            return new PlainChatBody(body).body();
        } catch (NotPlain e) {
            return null;
        }
    }

    private Read body() {
        ws();
        expect('{');
        List<ChatMessage> messages = null;
        int from = -1;
        int to = -1;
        do {
            ws();
            int key = pos;
            skipString(true);
            boolean isMessages = is(key + 1, pos - 1, MESSAGES);
            ws();
            expect(':');
            ws();
            if (isMessages) {
                if (messages != null) {
                    throw NotPlain.INSTANCE;
                }
                from = pos;
                messages = messages();
                to = pos;
            } else {
                skipValue();
            }
            ws();
        } while (accept(','));
        expect('}');
        if (messages == null) {
            throw NotPlain.INSTANCE;
        }
        byte[] rest = new byte[b.length - (to - from) + 2];
        System.arraycopy(b, 0, rest, 0, from);
        rest[from] = '[';
        rest[from + 1] = ']';
        System.arraycopy(b, to, rest, from + 2, b.length - to);
        return new Read(messages, rest);
    }

    private List<ChatMessage> messages() {
        expect('[');
        List<ChatMessage> out = new ArrayList<>();
        do {
            ws();
            out.add(message());
            ws();
        } while (accept(','));
        expect(']');
        return out;
    }

    private ChatMessage message() {
        expect('{');
        String role = null;
        String content = "";
        ws();
        if (!accept('}')) {
            do {
                ws();
                int key = pos;
                skipString(true);
                int keyEnd = pos - 1;
                ws();
                expect(':');
                ws();
                if (is(key + 1, keyEnd, ROLE)) {
                    role = string();
                } else if (is(key + 1, keyEnd, CONTENT)) {
                    content = content();
                } else if (is(key + 1, keyEnd, TOOL_CALLS)) {
                    throw NotPlain.INSTANCE;
                } else {
                    skipScalar();
                }
                ws();
            } while (accept(','));
            expect('}');
        }
        ChatMessage.Role r = role == null ? null : OpenAiRequest.role(role);
        if (r == null || r == ChatMessage.Role.TOOL) {
            throw NotPlain.INSTANCE;
        }
        return r == ChatMessage.Role.ASSISTANT ? ChatMessage.assistant(content) : new ChatMessage(r, content);
    }

    /** A string, null (empty) or an array of text parts joined. */
    private String content() {
        int c = peek();
        if (c == '"') {
            return string();
        }
        if (c == 'n') {
            literal(NULL);
            return "";
        }
        expect('[');
        StringBuilder text = new StringBuilder();
        ws();
        if (!accept(']')) {
            do {
                ws();
                text.append(textPart());
                ws();
            } while (accept(','));
            expect(']');
        }
        return text.toString();
    }

    private String textPart() {
        expect('{');
        String type = null;
        String text = null;
        do {
            ws();
            int key = pos;
            skipString(true);
            int keyEnd = pos - 1;
            ws();
            expect(':');
            ws();
            if (is(key + 1, keyEnd, TYPE)) {
                type = string();
            } else if (is(key + 1, keyEnd, TEXT)) {
                text = string();
            } else {
                skipScalar();
            }
            ws();
        } while (accept(','));
        expect('}');
        if (!"text".equals(type) || text == null) {
            throw NotPlain.INSTANCE;
        }
        return text;
    }

    /** A string, boolean or null, checked as JSON defines them. */
    private void skipScalar() {
        switch (peek()) {
            case '"' -> skipString(false);
            case 'n' -> literal(NULL);
            case 't' -> literal(TRUE);
            case 'f' -> literal(FALSE);
            default -> throw NotPlain.INSTANCE;
        }
    }

    /**
     * Skips a member's value without checking it (the full parser checks the rest): a string as JSON reads it, a
     * nested value to its balancing bracket, a number or literal to the next delimiter.
     */
    private void skipValue() {
        int c = peek();
        if (c == '"') {
            skipString(false);
            return;
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            do {
                c = peek();
                if (c == '"') {
                    skipString(false);
                    continue;
                }
                pos++;
                if (c == '{' || c == '[') {
                    depth++;
                } else if (c == '}' || c == ']') {
                    depth--;
                }
            } while (depth > 0);
            return;
        }
        while (true) {
            c = peek();
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                return;
            }
            pos++;
        }
    }

    /** JSON's whitespace: space, tab, line feed, carriage return. */
    private void ws() {
        while (pos < end) {
            int c = b[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }
}
