package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written request body against the one Parsson's builder made before it: the same JSON object, and
 * the same bytes, for any text; unpaired surrogates become U+FFFD.
 */
class ChatRequestJsonTest {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final String MODEL = "llama3.2:latest";
    private static final GenerationOptions ALL_OPTIONS =
            new GenerationOptions(0.7, 128, 42L, List.of("\n\nUser:", "</s>"), 4096, 512);

    @Test
    void plainAsciiWithoutOptions() {
        assertSameAsParsson(MODEL, List.of(ChatMessage.system("Be brief."), ChatMessage.user("Say hello"),
                ChatMessage.assistant("Hello!")), GenerationOptions.DEFAULTS);
    }

    @Test
    void noOptionsSetLeavesOutTheOptionsKey() {
        String body = new String(ChatRequestJson.write(MODEL, List.of(ChatMessage.user("hi")), GenerationOptions.DEFAULTS)
                .toByteArray(), StandardCharsets.UTF_8);
        assertEquals("{\"model\":\"llama3.2:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", body);
    }

    @Test
    void allOptionsSet() {
        assertSameAsParsson(MODEL, List.of(ChatMessage.user("hi")), ALL_OPTIONS);
        String body = new String(ChatRequestJson.write(MODEL, List.of(ChatMessage.user("hi")), ALL_OPTIONS).toByteArray(),
                StandardCharsets.UTF_8);
        assertEquals("{\"model\":\"llama3.2:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
                + "\"options\":{\"num_predict\":128,\"temperature\":0.7,\"seed\":42,\"stop\":[\"\\n\\nUser:\",\"</s>\"],"
                + "\"num_ctx\":4096,\"num_keep\":512}}", body);
    }

    @Test
    void eachOptionAlone() {
        List<ChatMessage> hi = List.of(ChatMessage.user("hi"));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(null, 64, null, List.of(), null, null));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(0.2, null, null, List.of(), null, null));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(null, null, -7L, List.of(), null, null));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(null, null, null, List.of("stop"), null, null));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(null, null, null, List.of(), 8192, null));
        assertSameAsParsson(MODEL, hi, new GenerationOptions(null, null, null, List.of(), null, 300));
        assertSameAsParsson(MODEL, hi, GenerationOptions.DEFAULTS.withContext(2048, 100));
    }

    @Test
    void theResponseFormatGoesToOllamaAsItsFormatField() {
        List<ChatMessage> hi = List.of(ChatMessage.user("hi"));
        String json = new String(ChatRequestJson.write(MODEL, hi, GenerationOptions.DEFAULTS.withFormat(ResponseFormat.JSON))
                .toByteArray(), StandardCharsets.UTF_8);
        assertEquals("{\"model\":\"llama3.2:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"stream\":true,\"format\":\"json\"}", json);
        JsonObject schema = Json.createObjectBuilder().add("type", "object")
                .add("properties", Json.createObjectBuilder().add("name", Json.createObjectBuilder().add("type", "string")))
                .add("required", Json.createArrayBuilder().add("name")).build();
        byte[] body = ChatRequestJson.write(MODEL, hi, ALL_OPTIONS.withFormat(ResponseFormat.schema(schema))).toByteArray();
        try (JsonReader r = READERS.createReader(new ByteArrayInputStream(body))) {
            JsonObject o = r.readObject();
            assertEquals(schema, o.getJsonObject("format"));
            assertEquals(128, o.getJsonObject("options").getInt("num_predict"));
        }
    }

    @Test
    void temperaturesPrintAsParssonPrintsThem() {
        for (double t : new double[]{0.7, 1.0, 1e-5, 0, -0.0, 1e-7, 1e20, 0.1 + 0.2, 2.5, 100, Double.MIN_VALUE, 123456789.125}) {
            assertSameAsParsson(MODEL, List.of(), new GenerationOptions(t, null, null, List.of(), null, null));
        }
        assertEquals("{\"model\":\"m\",\"messages\":[],\"stream\":true,\"options\":{\"temperature\":0.000010}}",
                new String(ChatRequestJson.write("m", List.of(), new GenerationOptions(1e-5, null, null, List.of(), null, null))
                        .toByteArray(), StandardCharsets.UTF_8));
    }

    @Test
    void nonFiniteTemperatureIsRejected() {
        for (double t : new double[]{Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatRequestJson.write(MODEL,
                    List.of(), new GenerationOptions(t, null, null, List.of(), null, null)));
            assertEquals("temperature must be a finite number, got " + t, e.getMessage());
        }
    }

    @Test
    void emptyMessageList() {
        assertSameAsParsson(MODEL, List.of(), GenerationOptions.DEFAULTS);
        assertSameAsParsson(MODEL, List.of(), ALL_OPTIONS);
    }

    @Test
    void everyControlCharIsEscaped() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            all.append(c);
            assertSameAsParsson(MODEL, List.of(ChatMessage.user("a" + c + "b")), GenerationOptions.DEFAULTS);
        }
        all.append('\u007f');
        assertSameAsParsson(MODEL, List.of(ChatMessage.user(all.toString())),
                new GenerationOptions(null, null, null, List.of(all.toString()), null, null));
    }

    @Test
    void quotesAndBackslashes() {
        assertSameAsParsson("we\"ird\\model", List.of(ChatMessage.system("say \"hi\" \\ or \\\"quote\\\""),
                ChatMessage.user("\"\"\\\\\""), ChatMessage.assistant("C:\\path\\to\\\"file\".txt / </script>")),
                new GenerationOptions(null, null, null, List.of("\"", "\\", "\\n"), null, null));
    }

    @Test
    void nonLatin1Text() {
        assertSameAsParsson(MODEL, List.of(ChatMessage.system("Keep it short \u2014 one line."),
                ChatMessage.user("\u4f60\u597d\uff0c\u4e16\u754c\u3002\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8"),
                ChatMessage.assistant("caf\u00e9 na\u00efve \u00fc\u00df \u0416\u0438\u0437\u043d\u044c \u05e9\u05dc\u05d5\u05dd \u20ac\u2026\ufeff\uffff")),
                ALL_OPTIONS);
    }

    @Test
    void emojiAreFourByteSequences() {
        String text = "smile \ud83d\ude00 flag \ud83c\uddfa\ud83c\uddf8 family \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 max \udbff\udfff";
        assertSameAsParsson(MODEL, List.of(ChatMessage.user(text)), GenerationOptions.DEFAULTS);
        byte[] body = ChatRequestJson.write("m", List.of(ChatMessage.user("\ud83d\ude00")), GenerationOptions.DEFAULTS).toByteArray();
        assertEquals("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\ud83d\ude00\"}],\"stream\":true}",
                new String(body, StandardCharsets.UTF_8));
        int at = indexOf(body, "content\":\"".getBytes(StandardCharsets.US_ASCII)) + 10;
        assertArrayEquals(new byte[]{(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80, '"'}, Arrays.copyOfRange(body, at, at + 5));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        for (String lone : List.of("\ud83d", "\ude00", "a\ud800b", "x\udc00y", "\ude00\ud83d", "end\ud83d", "\ud83d\ud83d\ude00")) {
            assertSameAsParsson(MODEL, List.of(ChatMessage.user(lone)), new GenerationOptions(null, null, null, List.of(lone), null, null));
            byte[] body = ChatRequestJson.write("m", List.of(ChatMessage.user(lone)), GenerationOptions.DEFAULTS).toByteArray();
            assertEquals(withoutLoneSurrogates(lone), content(body));
        }
        byte[] body = ChatRequestJson.write("m", List.of(ChatMessage.user("a\ud800b")), GenerationOptions.DEFAULTS).toByteArray();
        assertTrue(indexOf(body, new byte[]{'"', 'a', (byte) 0xEF, (byte) 0xBF, (byte) 0xBD, 'b', '"'}) > 0);
        // the builder's String.getBytes(UTF_8) wrote '?' here, a change of the text a reader could not tell from a real '?'
        assertEquals("a?b", content(parssonBody("m", List.of(ChatMessage.user("a\ud800b")), GenerationOptions.DEFAULTS)));
    }

    @Test
    void largeContent() {
        StringBuilder prose = new StringBuilder();
        while (prose.length() < 100_000) {
            prose.append("The quick brown fox \u2014 \"jumps\" over the lazy dog.\n\tLine two\\ \u4e16\u754c \ud83d\ude00 ");
        }
        assertSameAsParsson(MODEL, List.of(ChatMessage.system("sys"), ChatMessage.user(prose.toString())), ALL_OPTIONS);
        assertSameAsParsson(MODEL, List.of(ChatMessage.user("a".repeat(100_000))), GenerationOptions.DEFAULTS);
        // six bytes a char, then three: far beyond the up-front size, so the buffer grows mid-string
        assertSameAsParsson(MODEL, List.of(ChatMessage.user("\u0001".repeat(100_000)), ChatMessage.assistant("\u4e16".repeat(100_000))),
                ALL_OPTIONS);
    }

    @Test
    void pairsAndEscapesAtEveryPositionOfLongTexts() {
        // the writer copies chars out in chunks; a pair, a lone surrogate or an escape may fall on any boundary
        for (String special : List.of("\ud83d\ude00", "\ud83d", "\ude00", "\ud83d\ud83d\ude00", "\"", "\u0001", "\u00e9", "\u4e16")) {
            for (int at = 1; at < 4200; at += at % 1024 > 1015 || at % 1024 < 8 ? 1 : 97) {
                String text = "a".repeat(at) + special + "b".repeat(3);
                assertSameAsParsson(MODEL, List.of(ChatMessage.user(text)), GenerationOptions.DEFAULTS);
            }
        }
    }

    @Test
    void randomTextMatchesParsson() {
        Random random = new Random(20240611L);
        for (int round = 0; round < 3000; round++) {
            List<ChatMessage> messages = new ArrayList<>();
            int count = random.nextInt(4);
            for (int i = 0; i < count; i++) {
                ChatMessage.Role role = ChatMessage.Role.values()[random.nextInt(3)];
                messages.add(new ChatMessage(role, randomText(random, random.nextInt(round % 10 == 0 ? 5000 : 300))));
            }
            List<String> stop = new ArrayList<>();
            for (int i = random.nextInt(3); i > 0; i--) {
                stop.add(randomText(random, random.nextInt(8)));
            }
            GenerationOptions options = new GenerationOptions(
                    random.nextBoolean() ? random.nextDouble() * 2 : null,
                    random.nextBoolean() ? random.nextInt() : null,
                    random.nextBoolean() ? random.nextLong() : null,
                    stop,
                    random.nextBoolean() ? random.nextInt(1 << 20) : null,
                    random.nextBoolean() ? random.nextInt(1 << 16) : null);
            assertSameAsParsson(randomText(random, random.nextInt(12)), messages, options);
        }
    }

    private static final String ESCAPED = "\"\\\n\r\t\b\f\u0000\u001f\u007f";

    /** Chars from the whole range, weighted so escapes, multi-byte forms and (lone) surrogates all occur often. */
    private static String randomText(Random random, int length) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = switch (random.nextInt(6)) {
                case 0 -> (char) random.nextInt(Character.MAX_VALUE + 1);
                case 1 -> (char) random.nextInt(0x80);
                case 2 -> (char) (Character.MIN_SURROGATE + random.nextInt(Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1));
                case 3 -> ESCAPED.charAt(random.nextInt(ESCAPED.length()));
                case 4 -> (char) (0x80 + random.nextInt(0x800 - 0x80));
                default -> (char) (0x800 + random.nextInt(Character.MAX_VALUE + 1 - 0x800));
            };
        }
        return new String(chars);
    }

    /**
     * The new body parses to the object the builder made from the same input (lone surrogates as U+FFFD), is
     * valid UTF-8, and is byte for byte what the builder wrote.
     */
    private static void assertSameAsParsson(String model, List<ChatMessage> messages, GenerationOptions options) {
        byte[] actual = ChatRequestJson.write(model, messages, options).toByteArray();
        assertStrictUtf8(actual);
        List<ChatMessage> cleanMessages = messages.stream()
                .map(m -> new ChatMessage(m.role(), withoutLoneSurrogates(m.content()))).toList();
        GenerationOptions cleanOptions = new GenerationOptions(options.temperature(), options.maxNewTokens(), options.seed(),
                options.stop().stream().map(ChatRequestJsonTest::withoutLoneSurrogates).toList(),
                options.contextTokens(), options.keepTokens());
        byte[] expected = parssonBody(withoutLoneSurrogates(model), cleanMessages, cleanOptions);
        assertEquals(parse(expected), parse(actual));
        assertArrayEquals(expected, actual);
    }

    /** How {@code OllamaEngine} built the body before: Parsson's builder, {@code toString()}, UTF-8 bytes. */
    private static byte[] parssonBody(String model, List<ChatMessage> messages, GenerationOptions o) {
        JsonArrayBuilder msgs = Json.createArrayBuilder();
        for (ChatMessage m : messages) {
            msgs.add(Json.createObjectBuilder().add("role", m.role().wireName()).add("content", m.content()));
        }
        JsonObjectBuilder opts = Json.createObjectBuilder();
        if (o.maxNewTokens() != null) {
            opts.add("num_predict", o.maxNewTokens());
        }
        if (o.temperature() != null) {
            opts.add("temperature", o.temperature());
        }
        if (o.seed() != null) {
            opts.add("seed", o.seed());
        }
        if (!o.stop().isEmpty()) {
            JsonArrayBuilder stop = Json.createArrayBuilder();
            o.stop().forEach(stop::add);
            opts.add("stop", stop);
        }
        if (o.contextTokens() != null) {
            opts.add("num_ctx", o.contextTokens());
        }
        if (o.keepTokens() != null) {
            opts.add("num_keep", o.keepTokens());
        }
        JsonObjectBuilder req = Json.createObjectBuilder()
                .add("model", model)
                .add("messages", msgs)
                .add("stream", true);
        JsonObject built = opts.build();
        if (!built.isEmpty()) {
            req.add("options", built);
        }
        return req.build().toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String withoutLoneSurrogates(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(++i));
            } else {
                out.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return out.toString();
    }

    private static JsonObject parse(byte[] body) {
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8)) {
            return reader.readObject();
        }
    }

    private static String content(byte[] body) {
        return parse(body).getJsonArray("messages").getJsonObject(0).getString("content");
    }

    private static void assertStrictUtf8(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            throw new AssertionError("body is not valid UTF-8", e);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
