package io.streamingllm.local.llamacpp;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the llama.cpp fixtures written by {@code scripts/crosscheck-llamacpp.sh} from
 * {@code src/test/resources/llamacpp/} (format: README.md there).
 */
public final class LlamaCppFixtures {
    private LlamaCppFixtures() {
    }

    /** {@code NAME.vocab.json} as GGUF reader metadata: String/Integer/Float/Boolean, String[]/float[]/int[]. */
    public static Map<String, Object> vocabMetadata(String name) {
        JsonObject metadata = read(name + ".vocab.json").getJsonObject("metadata");
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : metadata.entrySet()) {
            JsonObject typed = e.getValue().asJsonObject();
            JsonValue v = typed.get("value");
            out.put(e.getKey(), switch (typed.getString("type")) {
                case "string" -> ((JsonString) v).getString();
                case "int" -> ((JsonNumber) v).intValueExact();
                case "float" -> (float) ((JsonNumber) v).doubleValue();
                case "bool" -> v == JsonValue.TRUE;
                case "string[]" -> v.asJsonArray().getValuesAs(JsonString::getString).toArray(String[]::new);
                case "float[]" -> floats(v.asJsonArray());
                case "int[]" -> ints(v.asJsonArray());
                default -> throw new IllegalStateException("unknown fixture type " + typed.getString("type"));
            });
        }
        return out;
    }

    /** One tokenisation case: llama.cpp's ids without and with special-token parsing, and its detokenisation. */
    public record TokenizerCase(String text, int[] ids, int[] idsParseSpecial, String detokenized) {
    }

    public static List<TokenizerCase> tokenizerCases(String name) {
        return read(name + ".tokenizer.json").getJsonArray("cases").getValuesAs(JsonObject.class).stream()
                .map(c -> new TokenizerCase(c.getString("text"), ints(c.getJsonArray("ids")),
                        ints(c.getJsonArray("idsParseSpecial")), c.getString("detokenized")))
                .toList();
    }

    /** One of the top next tokens at a position: id, probability, raw logit. */
    public record TopToken(int id, double prob, double logit) {
    }

    /** The distribution after input {@code position} (prompt ids, then generated ids). */
    public record Position(int position, int input, List<TopToken> top, double maxLogit) {
    }

    /** A prompt: its text (null when given as ids), ids with BOS, greedy continuation and per-position top tokens. */
    public record GenerationCase(String name, String text, int[] promptIds, int[] generated, String generatedText,
                                 List<Position> positions) {
    }

    public static List<GenerationCase> generationCases(String name) {
        return read(name + ".generation.json").getJsonArray("prompts").getValuesAs(JsonObject.class).stream()
                .map(p -> new GenerationCase(p.getString("name"), p.isNull("text") ? null : p.getString("text"),
                        ints(p.getJsonArray("promptIds")), ints(p.getJsonArray("generated")),
                        p.getString("generatedText"),
                        p.getJsonArray("positions").getValuesAs(JsonObject.class).stream()
                                .map(q -> new Position(q.getInt("position"), q.getInt("input"),
                                        q.getJsonArray("top").getValuesAs(JsonObject.class).stream()
                                                .map(t -> new TopToken(t.getInt("id"),
                                                        t.getJsonNumber("prob").doubleValue(),
                                                        t.getJsonNumber("logit").doubleValue()))
                                                .toList(),
                                        q.getJsonNumber("maxLogit").doubleValue()))
                                .toList()))
                .toList();
    }

    private static JsonObject read(String resource) {
        try (InputStream in = LlamaCppFixtures.class.getResourceAsStream("/llamacpp/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource llamacpp/" + resource);
            }
            try (JsonReader reader = Json.createReader(in)) {
                return reader.readObject();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(JsonArray a) {
        return a.getValuesAs(JsonNumber.class).stream().mapToInt(JsonNumber::intValueExact).toArray();
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.getJsonNumber(i).doubleValue();
        }
        return out;
    }
}
