package io.streamingllm.server.http;

import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.json.JsonText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonFieldsTest {
    private static JsonFields fields(String json, String label) {
        return JsonFields.of(JsonText.parseObject(json), label);
    }

    private static void refused(String message, Executable read) {
        ApiException e = assertThrows(ApiException.class, read);
        assertEquals(400, e.status());
        assertEquals("bad_request", e.error());
        assertEquals(message, e.detail());
    }

    @Test
    void absentAndNullAreEmptyForEveryType() {
        JsonFields f = fields("{\"n\":null}", "");
        for (String key : List.of("n", "missing")) {
            assertEquals(Optional.empty(), f.string(key));
            assertEquals(Optional.empty(), f.bool(key));
            assertEquals(Optional.empty(), f.number(key));
            assertEquals(Optional.empty(), f.integer(key));
            assertEquals(Optional.empty(), f.intInRange(key, 1, 2));
            assertEquals(Optional.empty(), f.strings(key));
            assertEquals(Optional.empty(), f.object(key));
        }
    }

    @Test
    void valuesOfTheRightType() {
        JsonFields f = fields("{\"s\":\"x\",\"t\":true,\"f\":false,\"d\":0.5,\"i\":7,\"one\":\"a\",\"many\":[\"a\",\"b\"],"
                + "\"o\":{\"k\":1}}", "");
        assertEquals(Optional.of("x"), f.string("s"));
        assertEquals("x", f.requiredString("s"));
        assertEquals(Optional.of(true), f.bool("t"));
        assertEquals(Optional.of(false), f.bool("f"));
        assertEquals(Optional.of(0.5), f.number("d"));
        assertEquals(Optional.of(7.0), f.number("i"));
        assertEquals(Optional.of(7L), f.integer("i"));
        assertEquals(Optional.of(7), f.intInRange("i", 7, 7));
        assertEquals(Optional.of(List.of("a")), f.strings("one"));
        assertEquals(Optional.of(List.of("a", "b")), f.strings("many"));
        assertEquals(1, f.object("o").orElseThrow().getInt("k"));
    }

    @Test
    void wrongTypesAre400sNamingTheFieldWithItsLabel() {
        JsonFields top = fields("{\"agent_id\":7,\"stream\":\"yes\",\"o\":[]}", "field ");
        refused("field agent_id must be a string", () -> top.string("agent_id"));
        refused("field agent_id must be a string", () -> top.requiredString("agent_id"));
        refused("missing field user_message (a string)", () -> top.requiredString("user_message"));
        refused("field stream must be a boolean", () -> top.bool("stream"));
        refused("field o must be an object", () -> top.object("o"));

        JsonFields options = fields("{\"temperature\":\"hot\",\"seed\":1.5,\"max\":0,\"big\":1048577,\"stop\":[\"a\",1],"
                + "\"n\":\"1\"}", "options.");
        refused("options.temperature must be a number", () -> options.number("temperature"));
        refused("options.seed must be an integer", () -> options.integer("seed"));
        refused("options.n must be an integer", () -> options.integer("n"));
        refused("options.max must be an integer from 1 to 1048576", () -> options.intInRange("max", 1, 1 << 20));
        refused("options.big must be an integer from 1 to 1048576", () -> options.intInRange("big", 1, 1 << 20));
        refused("options.seed must be an integer from 1 to 1048576", () -> options.intInRange("seed", 1, 1 << 20));
        refused("options.stop must be a string or an array of strings", () -> options.strings("stop"));
        refused("options.n must be a string or an array of strings", () -> fields("{\"n\":5}", "options.").strings("n"));

        refused("model must be a string", () -> fields("{\"model\":5}", "").string("model"));
    }
}
