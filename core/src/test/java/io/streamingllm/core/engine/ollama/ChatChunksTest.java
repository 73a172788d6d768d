package io.streamingllm.core.engine.ollama;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fast path must give what the full JSON parser gives, or step aside. */
class ChatChunksTest {
    private static final String HEAD = "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T10:00:00.123456789Z\","
            + "\"message\":{\"role\":\"assistant\",\"content\":";
    private static final String TAIL = "},\"done\":false}";

    /** What the full parser makes of a line: the delta of a plain in-progress record, else null. */
    private static String parsson(byte[] line) {
        JsonObject rec;
        try (JsonReader r = Json.createReader(new StringReader(new String(line, StandardCharsets.UTF_8)))) {
            rec = r.readObject();
        } catch (JsonException | IllegalStateException e) {
            return null;
        }
        if (rec.containsKey("error") || rec.getBoolean("done", false)) {
            return null;
        }
        return rec.get("message") instanceof JsonObject m && m.get("content") instanceof JsonString s ? s.getString() : "";
    }

    private static String fast(byte[] line) {
        return ChatChunks.delta(line, 0, line.length);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A line the fast path takes: it must decode the content exactly as the full parser does. */
    private static void assertFast(String expectedContent, byte[] line) {
        assertEquals(expectedContent, fast(line), "fast path on " + new String(line, StandardCharsets.UTF_8));
        assertEquals(expectedContent, parsson(line), "full parser on " + new String(line, StandardCharsets.UTF_8));
    }

    @Test
    void ollamasStreamingRecordsTakeTheFastPathWithExactContent() {
        assertFast("The", utf8(HEAD + "\"The\"" + TAIL));
        assertFast(" sky", utf8(HEAD + "\" sky\"" + TAIL));
        assertFast("", utf8(HEAD + "\"\"" + TAIL));
        assertFast("", utf8("{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\"},\"done\":false}"));
        assertFast("", utf8("{\"model\":\"m\",\"done\":false}"));
        assertFast("x", utf8("{\"done\":false,\"message\":{\"content\":\"x\",\"role\":\"assistant\"}}"));
        // a thinking model's chunk: another string field in the message
        assertFast("", utf8(HEAD + "\"\",\"thinking\":\"hmm \\\"quoted\\\"\"" + TAIL));
    }

    @Test
    void escapesDecodeExactlyAsJsonDefinesThem() {
        assertFast("say \"hi\"", utf8(HEAD + "\"say \\\"hi\\\"\"" + TAIL));
        assertFast("a\\b", utf8(HEAD + "\"a\\\\b\"" + TAIL));
        assertFast("</p>", utf8(HEAD + "\"<\\/p>\"" + TAIL));
        assertFast("\b\f\n\r\t", utf8(HEAD + "\"\\b\\f\\n\\r\\t\"" + TAIL));
        assertFast("é", utf8(HEAD + "\"\\u00e9\"" + TAIL));
        assertFast("É", utf8(HEAD + "\"\\u00C9\"" + TAIL));
        assertFast("😀", utf8(HEAD + "\"\\ud83d\\ude00\"" + TAIL));
        assertFast("\ud800", utf8(HEAD + "\"\\ud800\"" + TAIL));
        assertFast("\u0000", utf8(HEAD + "\"\\u0000\"" + TAIL));
        assertFast("end\\", utf8(HEAD + "\"end\\\\\"" + TAIL));
        assertFast("\"},\"done\":true}", utf8(HEAD + "\"\\\"},\\\"done\\\":true}\"" + TAIL));
    }

    @Test
    void rawUtf8IncludingMalformedBytesDecodesAsTheFullParserSeesIt() {
        assertFast("é😀中文", utf8(HEAD + "\"é😀中文\"" + TAIL));
        assertFast("ä\n", utf8(HEAD + "\"ä\\n\"" + TAIL));
        assertFast("\u007f", utf8(HEAD + "\"\u007f\"" + TAIL));
        byte[] head = utf8(HEAD + "\"a");
        byte[] tail = utf8("b\"" + TAIL);
        for (byte[] bad : List.of(new byte[]{(byte) 0xC3}, new byte[]{(byte) 0xFF}, new byte[]{(byte) 0xE2, (byte) 0x82},
                new byte[]{(byte) 0x80, (byte) 0x80}, new byte[]{(byte) 0xF0, (byte) 0x9F, (byte) 0x98})) {
            byte[] line = new byte[head.length + bad.length + tail.length];
            System.arraycopy(head, 0, line, 0, head.length);
            System.arraycopy(bad, 0, line, head.length, bad.length);
            System.arraycopy(tail, 0, line, head.length + bad.length, tail.length);
            assertNotNull(fast(line));
            assertEquals(parsson(line), fast(line));
        }
    }

    @Test
    void everythingElseIsLeftToTheFullParser() {
        for (String line : List.of(
                "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\","
                        + "\"total_duration\":123,\"eval_count\":3}",
                "{\"error\":\"model crashed\"}",
                HEAD + "\"a\"" + "},\"done\":false,\"error\":\"x\"}",
                HEAD + "\"a\"" + "},\"done\":true}",
                HEAD + "\"a\"" + "}}",
                HEAD + "null" + TAIL,
                HEAD + "\"a\"" + ",\"tool_calls\":[{\"function\":{\"name\":\"f\"}}]" + TAIL,
                HEAD + "\"a\"" + ",\"images\":null" + TAIL,
                "{\"model\": \"m\", \"done\": false}",
                " {\"done\":false}",
                "{\"done\":false} ",
                "{\"done\":false}x",
                "{\"cont\\u0065nt\":\"x\",\"done\":false}",
                "{\"message\":{\"cont\\u0065nt\":\"x\"},\"done\":false}",
                "{\"done\":false,\"eval_count\":3}",
                HEAD + "\"a\\x\"" + TAIL,
                HEAD + "\"a\\u12\"" + TAIL,
                HEAD + "\"a\\u12g4\"" + TAIL,
                HEAD + "\"a\tb\"" + TAIL,
                HEAD + "\"unterminated",
                "<html>502 Bad Gateway</html>",
                "",
                "{}",
                "[]")) {
            assertNull(fast(utf8(line)), line);
        }
    }

    @Test
    void duplicateFieldsResolveAsTheFullParserDoesLastOneWins() {
        assertFast("second", utf8("{\"message\":{\"content\":\"first\",\"content\":\"second\"},\"done\":false}"));
        assertFast("", utf8("{\"message\":{\"content\":\"first\"},\"message\":{\"role\":\"assistant\"},\"done\":false}"));
        assertFast("b", utf8("{\"message\":{\"content\":\"a\"},\"message\":{\"content\":\"b\"},\"done\":false,\"done\":false}"));
    }

    @Test
    void aLineInsideALargerBufferIsReadWithinItsBounds() {
        byte[] buf = utf8("garbage" + HEAD + "\"mid\"" + TAIL + "more");
        int from = "garbage".length();
        int len = (HEAD + "\"mid\"" + TAIL).length();
        assertEquals("mid", ChatChunks.delta(buf, from, len));
        assertNull(ChatChunks.delta(buf, from, len - 1));
    }

    @Test
    void randomContentRoundTripsThroughTheGeneratorAndMutatedLinesNeverDisagree() {
        Random random = new Random(20250101);
        String alphabet = "ab \"\\/\b\f\n\r\t\u0000\u001f\u007fé中😀\ud800\udc00{}[]:,";
        int fastTaken = 0;
        for (int i = 0; i < 5_000; i++) {
            StringBuilder content = new StringBuilder();
            int n = random.nextInt(12);
            for (int k = 0; k < n; k++) {
                content.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String line = Json.createObjectBuilder()
                    .add("model", "llama3.2").add("created_at", "2025-01-01T10:00:00Z")
                    .add("message", Json.createObjectBuilder().add("role", "assistant").add("content", content.toString()))
                    .add("done", false).build().toString();
            byte[] bytes = utf8(line);
            String expected = parsson(bytes);
            String got = fast(bytes);
            if (got != null) {
                fastTaken++;
                assertEquals(expected, got, line);
            }
            // a flipped byte: whatever the fast path still accepts, it must read as the full parser does
            byte[] mutated = bytes.clone();
            mutated[random.nextInt(mutated.length)] = (byte) alphabet.charAt(random.nextInt(alphabet.length()));
            String fastMutated = fast(mutated);
            if (fastMutated != null) {
                assertEquals(parsson(mutated), fastMutated, new String(mutated, StandardCharsets.UTF_8));
            }
        }
        assertTrue(fastTaken > 4_900, "generated records take the fast path: " + fastTaken);
    }
}
