package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.engine.http.UpstreamRequest;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonValue;

import java.math.BigDecimal;
import io.streamingllm.core.engine.http.UpstreamRequest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Writes the Ollama {@code /api/chat} request body as UTF-8 JSON in one pass over its strings, straight from
 * chars into a byte array sized from the inputs. It runs once per turn over the whole prompt window, where a
 * JSON builder, its generator and the String-then-bytes round trip cost a tenth of the sidecar's CPU.
 *
 * <p>Strings are escaped as RFC 8259 requires ({@code "}, {@code \}, control chars) and nothing more, like
 * Parsson. An unpaired surrogate becomes U+FFFD, which is what a JSON reader makes of it; the bytes are then
 * always valid UTF-8.
 */
final class ChatRequestJson {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** Room for the object's keys, punctuation, roles and numbers; strings are sized from their lengths. */
    private static final int FIXED_BYTES = 256;
    private static final int MESSAGE_BYTES = 40;
    private static final int MAX_BYTES_PER_CHAR = 6;
    private static final int CHUNK_CHARS = 1024;

    private byte[] buf;
    private int len;
    private final char[] chunk = new char[CHUNK_CHARS];

    private ChatRequestJson(int capacity) {
        this.buf = new byte[capacity];
    }

    /** The request body: model, messages [{role, content}], {@code stream: true}, format, options without nulls. */
    static ChatRequestJson write(String model, List<ChatMessage> messages, GenerationOptions o) {
        long chars = model.length();
        for (ChatMessage m : messages) {
            chars += m.content().length();
        }
        for (String s : o.stop()) {
            chars += s.length();
        }
        // mostly ASCII text with some newlines, quotes and non-ASCII letters: 1/8 slack covers it, and one chunk's
        // worst case more lets the last chunk make its room without growing the array
        long estimate = FIXED_BYTES + (long) MESSAGE_BYTES * messages.size() + chars + chars / 8
                + (long) MAX_BYTES_PER_CHAR * CHUNK_CHARS;
        ChatRequestJson json = new ChatRequestJson((int) Math.min(estimate, Integer.MAX_VALUE - 8));

        json.ascii("{\"model\":");
        json.string(model);
        json.ascii(",\"messages\":[");
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            json.ascii(i == 0 ? "{\"role\":\"" : ",{\"role\":\"");
            json.ascii(m.role().wireName());
            json.ascii("\",\"content\":");
            json.string(m.content());
            json.toolFields(m);
            json.ascii("}");
        }
        json.ascii("],\"stream\":true");
        json.tools(o.tools());
        json.format(o.format());
        json.options(o);
        json.ascii("}");
        return json;
    }

    /** A POST of this body to {@code uri}, without copying it. */
    UpstreamRequest request(URI uri, String... headers) {
        return new UpstreamRequest(uri, List.of(headers), buf, len);
    }

    /** A copy of the body's bytes. */
    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    /**
     * An assistant's calls (arguments as an object, as Ollama takes them) and a tool result's {@code tool_name};
     * rare and small next to the text, so written through Parsson.
     */
    private void toolFields(ChatMessage m) {
        if (!m.toolCalls().isEmpty()) {
            JsonArrayBuilder calls = Json.createArrayBuilder();
            for (ToolCall c : m.toolCalls()) {
                calls.add(Json.createObjectBuilder().add("function", Json.createObjectBuilder()
                        .add("name", c.name()).add("arguments", c.argumentsObject())));
            }
            raw(",\"tool_calls\":", calls.build());
        }
        if (m.toolName() != null) {
            ascii(",\"tool_name\":");
            string(m.toolName());
        }
    }

    /** {@code tools} in OpenAI's shape, which Ollama takes; Ollama has no tool_choice, so "none" sends no tools. */
    private void tools(ToolOptions t) {
        if (!t.enabled()) {
            return;
        }
        JsonArrayBuilder tools = Json.createArrayBuilder();
        for (ToolDefinition d : t.definitions()) {
            if (t.choice() == ToolOptions.Choice.FUNCTION && !d.name().equals(t.function())) {
                continue; // a named function is the only one offered: the nearest Ollama has to forcing it
            }
            tools.add(Json.createObjectBuilder().add("type", "function").add("function", Json.createObjectBuilder()
                    .add("name", d.name()).add("description", d.description()).add("parameters", d.parameters())));
        }
        raw(",\"tools\":", tools.build());
    }

    private void raw(String key, JsonValue value) {
        ascii(key);
        byte[] bytes = value.toString().getBytes(StandardCharsets.UTF_8);
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
    }

    /** Ollama's own {@code format}: {@code "json"} or the schema object; nothing for free text. */
    private void format(ResponseFormat f) {
        switch (f.type()) {
            case NONE -> { }
            case JSON -> ascii(",\"format\":\"json\"");
            case JSON_SCHEMA -> {
                byte[] schema = f.schema().toString().getBytes(StandardCharsets.UTF_8);
                ascii(",\"format\":");
                ensure(schema.length);
                System.arraycopy(schema, 0, buf, len, schema.length);
                len += schema.length;
            }
        }
    }

    private void options(GenerationOptions o) {
        int start = len;
        ascii(",\"options\":{");
        int empty = len;
        if (o.maxNewTokens() != null) {
            key(empty, "num_predict");
            ascii(Integer.toString(o.maxNewTokens()));
        }
        if (o.temperature() != null) {
            double t = o.temperature();
            if (!Double.isFinite(t)) {
                throw new IllegalArgumentException("temperature must be a finite number, got " + t);
            }
            key(empty, "temperature");
            // what Parsson prints for a double, so the body stays as before: 0.7, 1.0, 0.000010, 1.0E-7
            ascii(BigDecimal.valueOf(t).toString());
        }
        if (o.topP() != null) {
            double p = o.topP();
            if (!Double.isFinite(p)) {
                throw new IllegalArgumentException("top_p must be a finite number, got " + p);
            }
            key(empty, "top_p");
            ascii(BigDecimal.valueOf(p).toString());
        }
        if (o.seed() != null) {
            key(empty, "seed");
            ascii(Long.toString(o.seed()));
        }
        if (!o.stop().isEmpty()) {
            key(empty, "stop");
            ascii("[");
            for (int i = 0; i < o.stop().size(); i++) {
                if (i > 0) {
                    ascii(",");
                }
                string(o.stop().get(i));
            }
            ascii("]");
        }
        if (o.contextTokens() != null) {
            key(empty, "num_ctx");
            ascii(Integer.toString(o.contextTokens()));
        }
        if (o.keepTokens() != null) {
            key(empty, "num_keep");
            ascii(Integer.toString(o.keepTokens()));
        }
        if (len == empty) {
            len = start; // no option set: no "options" key at all
        } else {
            ascii("}");
        }
    }

    private void key(int firstKeyAt, String name) {
        if (len != firstKeyAt) {
            ascii(",");
        }
        ascii("\"");
        ascii(name);
        ascii("\":");
    }

    /** Appends text known to be plain ASCII that needs no escaping: keys, punctuation, roles, numbers. */
    private void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    /**
     * Appends {@code s} as a quoted, escaped JSON string in UTF-8. The chars are copied out a chunk at a time and
     * room for a chunk's worst case is made once, so the per-char loop does no bounds bookkeeping and plain ASCII
     * (nearly all of a prompt) takes one compare and one store.
     */
    private void string(String s) {
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
                throw new IllegalArgumentException("chat request is too large to encode");
            }
            buf = Arrays.copyOf(buf, Math.max(needed, (int) Math.min(2L * buf.length, Integer.MAX_VALUE - 8)));
        }
    }
}
