package io.streamingllm.server.json;

import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

import java.io.StringReader;
import java.util.Map;

/** JSON text helpers: jakarta.json for documents, a hand-written string quoter for the per-token hot path. */
public final class JsonText {
    /**
     * The JSON provider, looked up once: {@code jakarta.json.Json.createXxx()} runs a ServiceLoader scan of the
     * class path on every call, which showed up as a per-turn cost in profiles.
     */
    public static final JsonProvider JSON = JsonProvider.provider();
    /**
     * How deep objects and arrays may nest in a request body or frame: far more than any request needs (a JSON
     * schema in {@code format} included), few enough that a hostile document is refused early with a 400.
     */
    public static final int MAX_DEPTH = 64;
    /** Parsson's own limit, checked while parsing (its default, 1000, is reported as a bare RuntimeException). */
    private static final JsonReaderFactory READERS = JSON.createReaderFactory(
            Map.of("org.eclipse.parsson.maxDepth", MAX_DEPTH));
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JsonText() {
    }

    /** {@code s} as a JSON string literal, quotes included. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        quoteInto(sb, s);
        return sb.toString();
    }

    public static void quoteInto(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /**
     * Parses a JSON object; anything else (malformed text, an array, a scalar) is a {@link BadJson}
     * whose message says what was wrong.
     */
    public static JsonObject parseObject(String text) {
        JsonValue value;
        try (JsonReader reader = READERS.createReader(new StringReader(text))) {
            value = reader.readValue();
        } catch (JsonException e) {
            // JsonParsingException for bad syntax, plain JsonException for unreadable input
            throw new BadJson("malformed JSON: " + firstLine(e.getMessage()));
        } catch (RuntimeException e) {
            if (e.getClass() != RuntimeException.class) {
                throw e;
            }
            // Parsson's "Input is too deeply nested": its only bare RuntimeException
            throw new BadJson("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
        if (value.getValueType() != JsonValue.ValueType.OBJECT) {
            throw new BadJson("expected a JSON object, got " + describe(value.getValueType()));
        }
        return value.asJsonObject();
    }

    private static String describe(JsonValue.ValueType type) {
        return switch (type) {
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case TRUE, FALSE -> "a boolean";
            case NULL -> "null";
            case OBJECT -> "an object";
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable input";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A request body or frame that is not the JSON object expected. */
    public static final class BadJson extends RuntimeException {
        public BadJson(String message) {
            super(message);
        }
    }
}
