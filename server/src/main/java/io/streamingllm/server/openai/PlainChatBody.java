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
 * <p>Accepts only a strict subset: keys written plainly (no escapes), {@code messages} once at the top level, a
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
    /** The keys each object's reading acts on, by their index in {@link #key}'s answer. */
    private static final byte[][] BODY_KEYS = {ascii("messages")};
    private static final byte[][] MESSAGE_KEYS = {ascii("role"), ascii("content"), ascii("tool_calls")};
    private static final byte[][] PART_KEYS = {ascii("type"), ascii("text")};
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
            if (key(BODY_KEYS) == 0) {
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
                switch (key(MESSAGE_KEYS)) {
                    case 0 -> role = string();
                    case 1 -> content = content();
                    case 2 -> throw NotPlain.INSTANCE;
                    default -> skipScalar();
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
            switch (key(PART_KEYS)) {
                case 0 -> type = string();
                case 1 -> text = string();
                default -> skipScalar();
            }
            ws();
        } while (accept(','));
        expect('}');
        if (!"text".equals(type) || text == null) {
            throw NotPlain.INSTANCE;
        }
        return text;
    }

    /**
     * A member's key, plain (no escapes: an escaped {@code "messages"} must not hide from the scan), and its colon:
     * the index of the name it equals in {@code names}, -1 for any other.
     */
    private int key(byte[][] names) {
        ws();
        int from = pos + 1;
        skipString(true);
        int to = pos - 1;
        ws();
        expect(':');
        ws();
        for (int i = 0; i < names.length; i++) {
            if (is(from, to, names[i])) {
                return i;
            }
        }
        return -1;
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
