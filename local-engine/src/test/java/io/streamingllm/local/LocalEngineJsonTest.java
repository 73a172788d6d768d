package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.GgufWriter;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JSON-constrained decoding end to end: over many seeds, at high temperature and with budgets from tight to
 * loose, every output of stories260K and of a random-weight model parses and obeys its schema, and ends
 * because the value closed, never because the tokens ran out.
 */
class LocalEngineJsonTest {
    static final JsonObject PERSON = Json.createReader(new StringReader("""
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":12},
              "age":{"type":"integer"},
              "mood":{"enum":["happy","sad"]},
              "tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3},
              "pet":{"type":"object","properties":{"kind":{"type":"string"},"legs":{"type":"number"}},"required":["kind"]},
              "alive":{"type":["boolean","null"]}},
             "required":["name","age","mood","tags"],"additionalProperties":false}""")).readObject();
    static final int[] BUDGETS = {44, 60, 90, 160}; // 44: the smallest valid person

    @TempDir
    Path dir;

    private static GenerationOptions options(double temperature, int max, long seed, ResponseFormat format) {
        return new GenerationOptions(temperature, max, seed, List.of("}"), null, null).withFormat(format);
    }

    private static void everyOutputParses(LocalEngine engine, double temperature, int seeds) throws Exception {
        List<ChatMessage> prompt = List.of(ChatMessage.user("Tell me about a person as JSON."));
        for (int seed = 0; seed < seeds; seed++) {
            for (ResponseFormat format : List.of(ResponseFormat.JSON, ResponseFormat.schema(PERSON))) {
                int max = format == ResponseFormat.JSON ? 2 + seed % 30 : BUDGETS[seed % BUDGETS.length];
                StringBuilder streamed = new StringBuilder();
                GenerationResult r = engine.generate(prompt, options(temperature, max, seed, format), streamed::append)
                        .result().get(60, TimeUnit.SECONDS);
                String where = "seed " + seed + ", max " + max + ", " + format.type() + ": " + r.text();
                assertEquals(FinishReason.STOP, r.finishReason(), where);
                assertTrue(r.completionTokens() <= max, where);
                assertEquals(r.text(), streamed.toString(), where);
                JsonValue v;
                try {
                    v = Json.createReader(new StringReader(r.text())).readValue();
                } catch (JsonParsingException e) {
                    throw new AssertionError("does not parse: " + where, e);
                }
                assertInstanceOf(JsonObject.class, v, where);
                if (format != ResponseFormat.JSON) {
                    valid(v, PERSON, where);
                }
            }
        }
    }

    /** The schema subset the engine enforces, checked independently of it. */
    static void valid(JsonValue v, JsonObject s, String where) {
        if (s.containsKey("enum")) {
            assertTrue(s.getJsonArray("enum").contains(v), where);
            return;
        }
        JsonValue type = s.get("type");
        List<String> types = type instanceof JsonString t ? List.of(t.getString())
                : type.asJsonArray().getValuesAs(JsonString.class).stream().map(JsonString::getString).toList();
        String kind = switch (v.getValueType()) {
            case OBJECT -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case NUMBER -> ((JsonNumber) v).isIntegral() ? "integer" : "number";
            case TRUE, FALSE -> "boolean";
            case NULL -> "null";
        };
        assertTrue(types.contains(kind) || (kind.equals("integer") && types.contains("number")), where + " " + types);
        if (v instanceof JsonObject o) {
            JsonObject props = s.getJsonObject("properties");
            for (String k : o.keySet()) {
                assertTrue(props.containsKey(k), "undeclared " + k + ": " + where);
                valid(o.get(k), props.getJsonObject(k), where);
            }
            if (s.containsKey("required")) {
                for (JsonString r : s.getJsonArray("required").getValuesAs(JsonString.class)) {
                    assertTrue(o.containsKey(r.getString()), "missing " + r.getString() + ": " + where);
                }
            }
        } else if (v instanceof JsonArray a) {
            assertTrue(a.size() >= s.getInt("minItems", 0) && a.size() <= s.getInt("maxItems", Integer.MAX_VALUE), where);
            a.forEach(item -> valid(item, s.getJsonObject("items"), where));
        } else if (v instanceof JsonString str && s.containsKey("maxLength")) {
            assertTrue(str.getString().codePointCount(0, str.getString().length()) <= s.getInt("maxLength"), where);
        }
    }

    @Test
    void stories260KOutputsAlwaysParseAndObeyTheSchema() throws Exception {
        try (LocalEngine engine = LocalEngine.open("stories260K", SharedModels.stories260K(), 1, 4, 512, 64)) {
            everyOutputParses(engine, 1.0, 40);
        }
    }

    @Test
    void randomWeightModelOutputsAlwaysParseAndObeyTheSchema() throws Exception {
        for (long weights : new long[] {11, 12}) {
            Path file = dir.resolve("random-" + weights + ".gguf");
            writeByteVocabModel(file, weights);
            try (LocalEngine engine = LocalEngine.open("random", file, 1, 4, 512, 64)) {
                everyOutputParses(engine, 1.5, 25);
            }
        }
    }

    /**
     * A random-weight llama whose SentencePiece vocabulary has the 256 byte tokens typed as such (the shared
     * {@link io.streamingllm.local.testing.RandomModel} files leave token types out, so their {@code <0xNN>}
     * pieces are text, and JSON output is refused for them).
     */
    static void writeByteVocabModel(Path file, long seed) throws Exception {
        int dim = 64, hidden = 128, layers = 2, heads = 4, vocab = 320;
        Random r = new Random(seed);
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", "llama").putU32("llama.context_length", 1024)
                .putU32("llama.embedding_length", dim).putU32("llama.block_count", layers)
                .putU32("llama.feed_forward_length", hidden).putU32("llama.attention.head_count", heads)
                .putU32("llama.attention.head_count_kv", heads).putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        String[] tokens = new String[vocab];
        List<GgufWriter.Value> types = new ArrayList<>();
        for (int i = 0; i < vocab; i++) {
            tokens[i] = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>"
                    : i < 259 ? String.format("<0x%02X>", i - 3) : "\u2581t" + i;
            types.add(GgufWriter.i32(i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));
        }
        g.putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.token_type", GgufWriter.array(5, types))
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 2);
        g.add("token_embd.weight", GgmlType.F32, gauss(r, vocab * dim, 1f), dim, vocab);
        float s = (float) (2 / Math.sqrt(dim));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            g.add(p + "attn_norm.weight", GgmlType.F32, ones(dim), dim);
            for (String m : List.of("attn_q", "attn_k", "attn_v", "attn_output")) {
                g.add(p + m + ".weight", GgmlType.F32, gauss(r, dim * dim, s), dim, dim);
            }
            g.add(p + "ffn_norm.weight", GgmlType.F32, ones(dim), dim);
            g.add(p + "ffn_gate.weight", GgmlType.F32, gauss(r, hidden * dim, s), dim, hidden);
            g.add(p + "ffn_up.weight", GgmlType.F32, gauss(r, hidden * dim, s), dim, hidden);
            g.add(p + "ffn_down.weight", GgmlType.F32, gauss(r, dim * hidden, s), hidden, dim);
        }
        g.add("output_norm.weight", GgmlType.F32, ones(dim), dim);
        g.add("output.weight", GgmlType.F32, gauss(r, vocab * dim, 4 * s), dim, vocab);
        g.write(file);
    }

    private static float[] gauss(Random r, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    @Test
    void whatCannotBeEnforcedIsABadRequestNamingIt() throws Exception {
        try (LocalEngine engine = LocalEngine.open("stories260K", SharedModels.stories260K(), 1, 4, 512, 64)) {
            JsonObject anyOf = Json.createReader(new StringReader("{\"anyOf\":[{\"type\":\"string\"}]}")).readObject();
            GenerationOptions refused = options(0, 50, 1, ResponseFormat.schema(anyOf));
            EngineException e = assertThrows(EngineException.class, () -> engine.requireSupported(refused));
            assertEquals(EngineException.Kind.BAD_REQUEST, e.kind());
            assertTrue(e.getMessage().contains("'anyOf'"), e.getMessage());

            GenerationOptions tooShort = options(0, 10, 1, ResponseFormat.schema(PERSON));
            e = assertThrows(EngineException.class, () -> engine.requireSupported(tooShort));
            assertTrue(e.getMessage().contains("max_new_tokens 10"), e.getMessage());
            engine.requireSupported(options(0, 44, 1, ResponseFormat.schema(PERSON)));

            List<String> deltas = new ArrayList<>();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> engine.generate("s",
                    List.of(ChatMessage.user("hi")), refused, deltas::add).result().get(60, TimeUnit.SECONDS));
            assertEquals(EngineException.Kind.BAD_REQUEST, ((EngineException) failed.getCause()).kind());
            assertEquals(List.of(), deltas);
            if (engine.session("s").isPresent() && engine.session("s").get().cachedTokens() > 0) {
                fail("a refused request touched the session");
            }
        }
    }
}
