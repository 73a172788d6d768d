package io.streamingllm.server.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.RequestBody;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A chat body read by the fast path gives the request the full reading gives (the tree of the whole body, then
 * {@link OpenAiRequest#chat(jakarta.json.JsonObject)}), or the same refusal: status, code, param and
 * message.
 */
class PlainChatBodyTest {
    private static final String HI = "{\"role\":\"user\",\"content\":\"hi\"}";

    /** The request, or the refusal as the client would see it. */
    private static Object outcome(Supplier<OpenAiRequest> read) {
        try {
            return read.get();
        } catch (ApiException e) {
            return "ApiException " + e.status() + " " + e.error() + " " + e.param().orElse("-") + ": " + e.getMessage();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static Object full(byte[] body) {
        return outcome(() -> OpenAiRequest.chat(RequestBody.jsonObject(body)));
    }

    private static Object fast(byte[] body) {
        return outcome(() -> OpenAiRequest.chat(body));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertSame(byte[] body) {
        assertEquals(full(body), fast(body), () -> new String(body, StandardCharsets.UTF_8));
    }

    @Test
    void plainBodiesAreReadWithoutTheTreeAndGiveTheSameRequest() {
        for (String body : List.of(
                "{\"model\":\"m\",\"stream\":true,\"messages\":[" + HI + "]}",
                "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"developer\",\"content\":\"d\"},"
                        + HI + ",{\"role\":\"assistant\",\"content\":\"hello\"},{\"role\":\"USER\",\"content\":\"again\"}],"
                        + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.2,\"max_tokens\":7,"
                        + "\"stop\":[\"\\n\",\"END\"],\"seed\":3,\"user\":\"u1\",\"top_p\":0.9,\"logprobs\":null}",
                // pretty-printed, as some clients send it
                "{\n  \"model\": \"m\",\n  \"messages\": [\n    {\n      \"role\": \"user\",\r\n\t\"content\": \"x\"\n    }\n  ]\n}\n",
                // escapes, non-ASCII, a lone surrogate escape, a raw U+2028 and DEL
                "{\"messages\":[{\"role\":\"user\",\"content\":\"w\\u00e9 \\\"q\\\" \\\\ \\/ \\n\\t\\b\\f\\r d\u00e9j\u00e0 \ud83d\ude00 "
                        + "\\ud83d\\ude00 \\ud83d \u2028 \u007f \u65e5\"}]}",
                // content as text parts, null, or absent; other fields of messages and parts that are strings or null
                "{\"messages\":[{\"role\":\"user\",\"name\":\"bob\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                        + "{\"text\":\"b\",\"type\":\"text\",\"cache_control\":null}]},{\"role\":\"assistant\",\"content\":null,"
                        + "\"refusal\":null},{\"role\":\"assistant\"},{\"role\":\"user\",\"content\":[]}]}",
                // duplicate keys count last, in a message and around it
                "{\"model\":\"a\",\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"role\":\"user\",\"content\":\"y\"}],"
                        + "\"model\":\"b\",\"stream\":false,\"stream\":true}",
                // "messages" in another field's text and nested objects, brackets in strings
                "{\"metadata\":{\"messages\":[{\"role\":\"bot\"}],\"s\":\"]}[{\\\"\"},\"x\":\"\\\"messages\\\":[]\","
                        + "\"messages\":[" + HI + "],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                        + "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":\"auto\",\"response_format\":{\"type\":\"json_object\"}}",
                // refusals from the fields next to plain messages
                "{\"messages\":[" + HI + "],\"n\":2}",
                "{\"messages\":[" + HI + "],\"temperature\":3}",
                "{\"messages\":[" + HI + "],\"max_tokens\":0}",
                "{\"messages\":[" + HI + "],\"stop\":3}",
                "{\"messages\":[" + HI + "],\"tool_choice\":\"required\"}",
                "{\"messages\":[" + HI + "],\"stream_options\":{\"include_usage\":1}}",
                // whatever the full reading does with what follows the object
                "{\"messages\":[" + HI + "]} trailing",
                "{\"messages\":[" + HI + "]}{}")) {
            byte[] bytes = utf8(body);
            assertNotNull(PlainChatBody.read(bytes), body);
            assertSame(bytes);
        }
        OpenAiRequest read = OpenAiRequest.chat(utf8("{\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}," + HI + "],\"model\":\"m\",\"stream\":true}"));
        assertEquals(List.of(ChatMessage.system("ab"), ChatMessage.user("hi")), read.messages());
        assertEquals("m", read.model());
        assertTrue(read.stream());
    }

    @Test
    void everythingElseGoesToTheFullReadingAndGetsItsAnswer() {
        List<String> bodies = List.of(
                "", "   ", "[]", "null", "\"x\"", "{}", "{\"model\":\"m\"}",
                "{\"messages\":[]}", "{\"messages\":{}}", "{\"messages\":null}", "{\"messages\":[1]}",
                "{\"messages\":[" + HI + "],\"messages\":[{\"role\":\"user\",\"content\":\"second\"}]}",
                "{\"m\\u0065ssages\":[{\"role\":\"bot\"}],\"messages\":[" + HI + "]}",
                "{\"messages\":[" + HI + "],\"m\\u0065ssages\":[{\"role\":\"user\",\"content\":\"escaped key\"}]}",
                "{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}",
                "{\"messages\":[{\"role\":3,\"content\":\"x\"}]}",
                "{\"messages\":[{\"content\":\"x\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":5}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"u\"}}]}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":[\"a\"]}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}],\"content\":\"later wins\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"weight\":1,\"content\":\"x\"}]}",
                "{\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"r\"}]}",
                "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},{\"role\":\"tool\","
                        + "\"tool_call_id\":\"c1\",\"content\":\"r\"}]}",
                "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":null}]}",
                "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":[{\"function\":{}}]}]}",
                "{\"messages\":[" + HI + "],\"x\":" + "[".repeat(70) + "]".repeat(70) + "}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"deep\":" + "[".repeat(70) + "]".repeat(70) + "}]}",
                "{\"messages\":[" + HI + "],\"x\":[1,2}}",
                "{\"messages\":[" + HI + "],\"x\":tru}",
                "{\"messages\":[" + HI + "],}",
                "{\"messages\":[" + HI + ",]}",
                "{\"messages\":[" + HI + "]",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\u0001b\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"\\x\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"\\u12\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":nul}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}\f]}",
                "\ufeff{\"messages\":[" + HI + "]}",
                "{\"messages\":[" + HI + "],\"x\":01}");
        for (String body : bodies) {
            assertSame(utf8(body));
        }
        // malformed UTF-8 in a content string and between tokens: decoded with U+FFFD either way
        for (byte[] bad : List.of(new byte[]{(byte) 0xc3}, new byte[]{(byte) 0xe2, (byte) 0x82}, new byte[]{(byte) 0xff},
                new byte[]{(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[]{(byte) 0xf0, (byte) 0x9f, (byte) 0x98})) {
            assertSame(concat(utf8("{\"messages\":[{\"role\":\"user\",\"content\":\"a"), bad, utf8("\"}]}")));
            assertSame(concat(utf8("{\"messages\":[{\"role\":\"user\",\"content\":\"a"), bad, utf8("\\n\"}]}")));
            assertSame(concat(utf8("{\"messages\":[" + HI), bad, utf8("]}")));
        }
    }

    @Test
    void randomBodiesGetTheSameRequestOrTheSameRefusal() {
        Random random = new Random(13);
        int plain = 0;
        int runs = 6_000;
        for (int i = 0; i < runs; i++) {
            // half the bodies from what clients send, half with what the full reading refuses, and some mutated
            boolean wild = random.nextBoolean();
            byte[] body = body(random, wild);
            if (wild && random.nextInt(3) == 0) {
                body = mutate(random, body);
            }
            if (PlainChatBody.read(body) != null) {
                plain++;
            }
            assertSame(body);
        }
        // the comparison is only worth something if the fast path took a good share of the bodies
        assertTrue(plain > runs / 3, plain + " of " + runs + " read by the fast path");
    }

    @Test
    void aBodyTheFastPathLeavesIsNotRead() {
        assertNull(PlainChatBody.read(utf8("{\"messages\":[{\"role\":\"tool\",\"content\":\"r\"}]}")));
        assertNull(PlainChatBody.read(utf8("{\"messages\":[" + HI + "],\"messages\":[" + HI + "]}")));
        assertNull(PlainChatBody.read(utf8("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"n\":1}]}")));
    }

    /** A chat body from parts that are mostly plain, with the fields and values that clients send and some they should not. */
    private static byte[] body(Random r, boolean wild) {
        List<String> members = new ArrayList<>();
        members.add(key(r, "messages") + ":" + messages(r, wild));
        int others = r.nextInt(5);
        for (int i = 0; i < others; i++) {
            members.add(other(r));
        }
        if (wild && r.nextInt(10) == 0) {
            members.add(key(r, "messages") + ":" + messages(r, wild));
        }
        Collections.shuffle(members, r);
        return utf8(ws(r) + "{" + ws(r) + String.join(ws(r) + "," + ws(r), members) + ws(r) + "}" + ws(r));
    }

    private static String key(Random r, String key) {
        return "\"" + key + "\"" + ws(r);
    }

    private static String other(Random r) {
        String[] fields = {
                "\"model\":\"m\"", "\"model\":\"\"", "\"model\":null", "\"stream\":true", "\"stream\":false", "\"stream\":1",
                "\"stream_options\":{\"include_usage\":true}", "\"stream_options\":null", "\"temperature\":0.7",
                "\"temperature\":-1", "\"temperature\":1e0", "\"n\":1", "\"n\":2", "\"n\":1.0", "\"max_tokens\":12",
                "\"max_completion_tokens\":3", "\"max_tokens\":-0", "\"stop\":\"x\"", "\"stop\":[\"a\",\"]\"]",
                "\"stop\":[1]", "\"seed\":99999999999", "\"user\":\"u\"", "\"user\":5", "\"top_p\":0.5",
                "\"metadata\":{\"messages\":[{\"role\":\"x\"}],\"q\":\"}]\\\"[{\"}", "\"x\":\"messages\"",
                "\"logit_bias\":{\"1\":-100}", "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]",
                "\"tool_choice\":\"none\"", "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}",
                "\"response_format\":{\"type\":\"text\"}", "\"response_format\":{\"type\":\"xml\"}",
                "\"parallel_tool_calls\":false", "\"frequency_penalty\":0", "\"x\":[[[{}]]]", "\"x\":[]"};
        return fields[r.nextInt(fields.length)].replace(":", ws(r) + ":" + ws(r));
    }

    private static String messages(Random r, boolean wild) {
        int pick = wild ? r.nextInt(40) : 99;
        if (pick == 0) {
            return "[]";
        }
        if (pick == 1) {
            return "{}";
        }
        List<String> out = new ArrayList<>();
        int n = 1 + r.nextInt(5);
        for (int i = 0; i < n; i++) {
            out.add(message(r, wild));
        }
        return "[" + ws(r) + String.join(ws(r) + "," + ws(r), out) + ws(r) + "]";
    }

    private static String message(Random r, boolean wild) {
        String[] roles = {"user", "user", "system", "assistant", "assistant", "developer", "USER", "Assistant", "tool",
                "bot", ""};
        int roleCount = wild ? roles.length : roles.length - 3;
        List<String> fields = new ArrayList<>();
        int roleAt = wild ? r.nextInt(30) : 99;
        fields.add(roleAt == 0 ? "\"role\":3" : roleAt == 1 ? "\"role\":null"
                : "\"role\":\"" + roles[r.nextInt(roleCount)] + "\"");
        int contentAt = r.nextInt(12);
        if (contentAt != 0) {
            fields.add("\"content\":" + content(r, wild));
        }
        int[] plainExtras = {0, 1, 5, 6, 7, 8};
        switch (wild ? r.nextInt(16) : plainExtras[r.nextInt(plainExtras.length)]) {
            case 0 -> fields.add("\"name\":\"n\"");
            case 1 -> fields.add("\"refusal\":null");
            case 2 -> fields.add("\"tool_calls\":null");
            case 3 -> fields.add("\"tool_call_id\":\"c\"");
            case 4 -> fields.add("\"weight\":1");
            case 5 -> fields.add("\"role\":\"" + roles[r.nextInt(roleCount)] + "\"");
            case 6 -> fields.add("\"content\":" + content(r, wild));
            case 7 -> fields.add("\"flag\":true");
            default -> {
            }
        }
        Collections.shuffle(fields, r);
        return "{" + ws(r) + String.join(ws(r) + "," + ws(r), fields).replace(":", ws(r) + ":" + ws(r)) + ws(r) + "}";
    }

    private static String content(Random r, boolean wild) {
        return switch (r.nextInt(12)) {
            case 0 -> "null";
            case 1 -> "[" + part(r, wild) + "," + part(r, wild) + "]";
            case 2 -> "[]";
            case 3 -> "[" + part(r, wild) + "]";
            case 4 -> wild ? "5" : "\"\"";
            default -> text(r, wild);
        };
    }

    private static String part(Random r, boolean wild) {
        return switch (wild ? r.nextInt(8) : 4 + r.nextInt(4)) {
            case 0 -> "{\"type\":\"image_url\",\"image_url\":{\"url\":\"u\"}}";
            case 1 -> "{\"type\":\"text\"}";
            case 2 -> "\"a\"";
            case 3 -> "{\"type\":null,\"type\":\"text\",\"text\":\"x\"}";
            case 4 -> "{\"text\":" + text(r, wild) + ",\"type\":\"text\"}";
            default -> "{\"type\":\"text\",\"text\":" + text(r, wild) + "}";
        };
    }

    /** A JSON string literal with escapes, non-ASCII, and now and then what JSON forbids. */
    private static String text(Random r, boolean wild) {
        String[] pieces = {"a", "hello ", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b", "\\f", "\\u00e9",
                "\\ud83d\\ude00", "\\ud83d", "\\uDE00", "\u00e9", "\u65e5\u672c", "\ud83d\ude00", "\u2028", "\u007f",
                "]}", "{[", ",", ":", "messages", "'", "<b>"};
        String[] bad = {"\u0001", "\\x", "\\u12g4", "\n", "\t"};
        StringBuilder sb = new StringBuilder("\"");
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
            sb.append(wild && r.nextInt(50) == 0 ? bad[r.nextInt(bad.length)] : pieces[r.nextInt(pieces.length)]);
        }
        return sb.append('"').toString();
    }

    private static String ws(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> " ";
            case 1 -> "\n  ";
            case 2 -> "\r\n\t";
            default -> "";
        };
    }

    /** One byte deleted, inserted or replaced: structure, quotes, escapes, whitespace, bytes UTF-8 forbids. */
    private static byte[] mutate(Random r, byte[] body) {
        byte[] candidates = {'{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\f', 'n', '1', 'u', 0x01, (byte) 0xc3,
                (byte) 0xe2, (byte) 0x82, (byte) 0xff, (byte) 0xed};
        if (body.length == 0) {
            return body;
        }
        int at = r.nextInt(body.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(body, 0, at);
        switch (r.nextInt(3)) {
            case 0 -> out.write(body, at + 1, body.length - at - 1);
            case 1 -> {
                out.write(candidates[r.nextInt(candidates.length)]);
                out.write(body, at, body.length - at);
            }
            default -> {
                out.write(candidates[r.nextInt(candidates.length)]);
                out.write(body, at + 1, body.length - at - 1);
            }
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
