package io.streamingllm.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ollama's {@code format} and OpenAI's {@code response_format} read into one {@link ResponseFormat}. */
class ResponseFormatTest {
    private static JsonValue json(String text) {
        return Json.createReader(new StringReader("[" + text + "]")).readArray().get(0);
    }

    @Test
    void ollamaFormat() {
        assertEquals(ResponseFormat.NONE, ResponseFormat.fromOllama(null));
        assertEquals(ResponseFormat.NONE, ResponseFormat.fromOllama(JsonValue.NULL));
        assertEquals(ResponseFormat.NONE, ResponseFormat.fromOllama(json("\"\"")));
        assertEquals(ResponseFormat.JSON, ResponseFormat.fromOllama(json("\"json\"")));
        JsonObject schema = json("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}").asJsonObject();
        assertEquals(ResponseFormat.schema(schema), ResponseFormat.fromOllama(schema));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResponseFormat.fromOllama(json("\"yaml\"")))
                .getMessage().contains("yaml"));
        assertThrows(IllegalArgumentException.class, () -> ResponseFormat.fromOllama(json("3")));
    }

    @Test
    void openAiResponseFormat() {
        assertEquals(ResponseFormat.NONE, ResponseFormat.fromOpenAi(null));
        assertEquals(ResponseFormat.NONE, ResponseFormat.fromOpenAi(json("{\"type\":\"text\"}")));
        assertEquals(ResponseFormat.JSON, ResponseFormat.fromOpenAi(json("{\"type\":\"json_object\"}")));
        JsonObject schema = json("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}")
                .asJsonObject();
        assertEquals(ResponseFormat.schema(schema), ResponseFormat.fromOpenAi(Json.createObjectBuilder()
                .add("type", "json_schema")
                .add("json_schema", Json.createObjectBuilder().add("name", "thing").add("strict", true).add("schema", schema))
                .build()));
        for (String bad : List.of("\"json_object\"", "{}", "{\"type\":\"xml\"}", "{\"type\":\"json_schema\"}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":[]}}")) {
            assertThrows(IllegalArgumentException.class, () -> ResponseFormat.fromOpenAi(json(bad)), bad);
        }
    }

    @Test
    void optionsCarryTheFormatThroughEveryCopy() {
        GenerationOptions o = new GenerationOptions(0.5, 10, 1L, List.of(), null, null);
        assertEquals(ResponseFormat.NONE, o.format(), "the six-argument constructor means free text");
        assertFalse(o.format().constrained());
        GenerationOptions json = o.withFormat(ResponseFormat.JSON);
        assertEquals(ResponseFormat.JSON, json.withMaxNewTokens(3).withContext(100, 4).format());
        assertEquals(ResponseFormat.NONE, new GenerationOptions(null, null, null, null, null, null, null).format());
    }
}
