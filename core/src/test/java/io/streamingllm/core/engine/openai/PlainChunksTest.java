package io.streamingllm.core.engine.openai;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fast path reads exactly what the JSON parser reads, and leaves everything else to it. */
class PlainChunksTest {
    private static String fast(String json) {
        byte[] b = ("xx" + json + "yy").getBytes(StandardCharsets.UTF_8);
        int len = json.getBytes(StandardCharsets.UTF_8).length;
        return PlainChunks.delta(b, 2, len);
    }

    private static String parsed(String json) {
        JsonObject o = Json.createReader(new StringReader(json)).readObject();
        JsonObject delta = o.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
        return delta != null && delta.containsKey("content") && !delta.isNull("content") ? delta.getString("content") : "";
    }

    private static String chunk(String delta) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"m\","
                + "\"system_fingerprint\":\"fp_x\",\"choices\":[{\"index\":0,\"delta\":" + delta
                + ",\"logprobs\":null,\"finish_reason\":null}]}";
    }

    @Test
    void plainChunksGiveTheSameContentAsTheParser() {
        for (String delta : List.of("{\"content\":\"Hello\"}", "{\"role\":\"assistant\",\"content\":\"\"}", "{}",
                "{\"content\":\" w\\u00e9 \\\"q\\\" \\\\ \\n\\t\\/ \\ud83d\\ude00\"}", "{\"content\":\"déjà vu 😀 日本\"}",
                "{\"content\":null}", "{\"content\":\"<b>&amp;</b>\",\"reasoning_content\":null}")) {
            String json = chunk(delta);
            assertEquals(parsed(json), fast(json), json);
        }
        String vllmWithUsage = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{"
                + "\"index\":0,\"delta\":{\"content\":\"x\"},\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}],"
                + "\"usage\":null}";
        assertEquals("x", fast(vllmWithUsage));
        String llamaServer = "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" a\"}}],"
                + "\"created\":1,\"id\":\"c\",\"model\":\"m\",\"system_fingerprint\":\"b1\",\"object\":\"chat.completion.chunk\"}";
        assertEquals(" a", fast(llamaServer));
    }

    @Test
    void everythingElseGoesToTheParser() {
        for (String json : List.of(
                chunk("{\"content\":\"x\"}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}",
                chunk("{\"content\":\"x\"}").replace("}]}", "}],\"usage\":{\"prompt_tokens\":1}}"),
                "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}",
                chunk("{\"content\":\"x\"}").replace("\"model\":\"m\"", "\"model\": \"m\""),
                chunk("{\"content\":\"x\"}").replace("}]}", "}],\"timings\":{\"predicted_n\":1}}"),
                chunk("{\"content\":\"x\"}").replace("}]}", "},{\"index\":1,\"delta\":{}}]}"),
                chunk("{\"tool_calls\":[{\"index\":0}]}"),
                chunk("{\"content\":\"x\"}").substring(0, 60),
                chunk("{\"content\":\"a\u0001b\"}"),
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\"}",
                "[DONE]", "")) {
            assertNull(fast(json), json);
        }
    }

    @Test
    void anErrorObjectIsLeftToTheParser() {
        assertNull(fast(chunk("{\"content\":\"x\"}").replace("chat.completion.chunk", "error")));
    }

    private static String template(PlainChunks.Template t, String json) {
        byte[] b = ("data: " + json + "\r").getBytes(StandardCharsets.UTF_8);
        return t.delta(b, 6, json.getBytes(StandardCharsets.UTF_8).length);
    }

    /**
     * A stream's chunks read with the template give what the key-by-key reading gives, chunk by chunk, also where a
     * chunk has the template's bytes around something that is not one valid string, or other bytes before or after
     * its content; and the plain chunks of a steady stream are read by the template.
     */
    @Test
    void theTemplateReadsWhatTheFullReadingReads() {
        Random random = new Random(13);
        String[] pieces = {"a", " the", "é", "😀", "日本", "\\\"", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\\\", "\\/",
                "\"", "\\", "\\x", "\u0001", "\\u12", "", "}", ",\"content\":\"y\"", "null"};
        String head = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":";
        String tail = "},\"logprobs\":null,\"finish_reason\":null}]}";
        List<String> others = List.of(
                chunk("{\"role\":\"assistant\",\"content\":\"\"}"),
                head + "\"x\"" + tail.replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
                head + "\"x\"" + tail.replace("}]}", "}],\"usage\":{\"prompt_tokens\":1}}"),
                head + "\"x\"" + tail.replace("\"finish_reason\":null", "\"finish_reason\":\"ab\""),
                head + "\"x\"" + tail.replace("\"logprobs\":null", "\"logprobs\":\"ab\""),
                head + "\"x\"" + tail + " ",
                head + "\"x\"" + tail.substring(0, tail.length() - 1),
                head + "\"x\"" + tail + "}",
                head.replace("chat.completion.chunk", "error") + "\"x\"" + tail,
                head.replace("\"created\":1", "\"created\":2") + "\"x\"" + tail,
                head.replace("\"model\":\"m\"", "\"model\":[1]") + "\"x\"" + tail,
                head.replace("\"object\":\"chat.completion.chunk\"", "\"object\":\"error\",\"pad\":\"1234567\"") + "\"x\"" + tail,
                head + "\"x\"},\"delta\":{" + tail,
                head + "\"x\"" + tail.replace("}]}", "}],\"choices\":[{\"index\":0}]}"),
                head + "7" + tail, head + "null" + tail, head + "\"x\",\"content\":null" + tail,
                head + "\"x\"" + tail.replace("}]}", "},{\"index\":1,\"delta\":{}}]}"));
        PlainChunks.Template t = new PlainChunks.Template();
        List<String> stream = new ArrayList<>();
        for (String other : others) { // each after itself, and after a chunk like it with other content
            stream.addAll(List.of(other, other, other.replace("\"x\"", "\"z\""), head + "\"w\"" + tail));
        }
        for (int i = 0; i < 4000; i++) {
            if (random.nextInt(6) == 0) {
                stream.add(others.get(random.nextInt(others.size())));
            } else {
                StringBuilder content = new StringBuilder();
                for (int k = random.nextInt(4); k > 0; k--) {
                    content.append(pieces[random.nextInt(pieces.length)]);
                }
                stream.add(head + "\"" + content + "\"" + tail);
            }
        }
        for (String json : stream) {
            String expected = fast(json);
            assertEquals(expected, template(t, json), json);
            if (expected != null) {
                assertEquals(parsed(json), expected, json);
            }
        }
        assertTrue(t.hits() > 2000, "plain chunks read by the template: " + t.hits());
    }

    /** A server that varies more than the content (a per-chunk random field) is read key by key: the same results. */
    @Test
    void aTemplateThatKeepsMissingIsDropped() {
        PlainChunks.Template t = new PlainChunks.Template();
        for (int i = 0; i < 100; i++) {
            String json = chunk("{\"content\":\"t" + i + "\"}").replace("}]}", "}],\"obfuscation\":\"" + i + "\"}");
            assertEquals("t" + i, template(t, json));
        }
        assertEquals(0, t.hits());
    }

    /** What the full reading takes from a chunk, in {@link PlainChunks.Last}'s terms. */
    private static PlainChunks.Last parsedLast(String json) {
        JsonObject o = Json.createReader(new StringReader(json)).readObject();
        String content = null;
        String finish = null;
        if (o.get("choices") instanceof JsonArray choices && !choices.isEmpty() && choices.get(0) instanceof JsonObject c) {
            content = c.get("delta") instanceof JsonObject d && d.get("content") instanceof JsonString s ? s.getString() : "";
            finish = c.get("finish_reason") instanceof JsonString f ? f.getString() : null;
        }
        boolean usage = o.get("usage") instanceof JsonObject;
        int prompt = usage && o.getJsonObject("usage").get("prompt_tokens") instanceof JsonNumber n ? n.intValue() : -1;
        int completion = usage && o.getJsonObject("usage").get("completion_tokens") instanceof JsonNumber n ? n.intValue() : -1;
        return new PlainChunks.Last(content, finish, usage, prompt, completion);
    }

    private static PlainChunks.Last fastLast(String json) {
        byte[] b = ("data: " + json).getBytes(StandardCharsets.UTF_8);
        return PlainChunks.last(b, 6, b.length - 6);
    }

    /** The finish and usage chunks, read without a tree, give what the full reading gives; anything unusual is its. */
    @Test
    void finishAndUsageChunksGiveWhatTheParserGives() {
        String usage = "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}";
        List<String> plain = List.of(
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":\"length\""),
                chunk("{\"content\":\"x\"}").replace("\"finish_reason\":null", "\"finish_reason\":\"tool_calls\""),
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\"").replace("}]}", "}]," + usage + "}"),
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[]," + usage + "}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":999999999}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"completion_tokens\":5}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{}}",
                "{\"id\":\"c\",\"choices\":[]," + usage + ",\"usage\":null}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":null," + usage + "}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"prompt_tokens\":2}}",
                "{\"id\":\"c\",\"choices\":[]," + usage + ",\"usage\":{\"completion_tokens\":5}}",
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\"").replace("}]}",
                        "}],\"choices\":[{\"index\":0,\"delta\":{\"content\":\"y\"}}]}"),
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\"") .replace("}]}", "}],\"choices\":[]}"),
                "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"created\":1,\"id\":\"c\","
                        + "\"model\":\"m\",\"object\":\"chat.completion.chunk\"}");
        for (String json : plain) {
            PlainChunks.Last fast = fastLast(json);
            assertNotNull(fast, json);
            assertEquals(parsedLast(json), fast, json);
        }
        for (String json : List.of(
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"prompt_tokens_details\":{\"cached_tokens\":0}}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1.5}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":-1}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1e3}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1234567890}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":012}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":\"3\"}}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1}",
                "{\"error\":{\"message\":\"boom\"}}",
                "{\"object\":\"error\",\"choices\":[]}",
                chunk("{}").replace("\"finish_reason\":null", "\"finish_reason\":7"),
                chunk("{\"tool_calls\":[{\"index\":0}]}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
                chunk("{}").replace("}]}", "}],\"timings\":{\"predicted_n\":1}}"))) {
            assertNull(fastLast(json), json);
        }
    }
}
