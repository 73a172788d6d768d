package io.streamingllm.local.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The byte automaton: accepts exactly the allowed JSON, tells the bytes still needed, refuses what it cannot enforce. */
class JsonMachineTest {
    static JsonObject schema(String json) {
        return Json.createReader(new StringReader(json)).readObject();
    }

    /** Feeds {@code text}; the number of bytes accepted before the first refusal (the length when all are). */
    static int accepted(JsonMachine m, int[] st, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (!m.step(st, b[i] & 0xFF)) {
                return i;
            }
        }
        return b.length;
    }

    static boolean complete(JsonGrammar g, String text) {
        JsonMachine m = new JsonMachine(g);
        int[] st = m.start();
        return accepted(m, st, text) == text.getBytes(StandardCharsets.UTF_8).length && m.canEnd(st);
    }

    static boolean prefix(JsonGrammar g, String text) {
        JsonMachine m = new JsonMachine(g);
        return accepted(m, m.start(), text) == text.getBytes(StandardCharsets.UTF_8).length;
    }

    @Test
    void anyObjectAcceptsJsonObjectsAndNothingElse() {
        JsonGrammar g = SchemaCompiler.anyObject();
        for (String ok : List.of("{}", " {\"a\": 1}", "{\"a\":[1,-2.5e+3,0,true,false,null,\"x\"],\"b\":{\"c\":{}}}",
                "{\"esc\":\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\uD83D\\uDE00\"}", "{\"ünï\":\"ç😀漢\"}",
                "{\n  \"a\" : [ ]\n}", "{\"n\":-0.5E-7,\"m\":10}")) {
            assertTrue(complete(g, ok), ok);
        }
        for (String bad : List.of("[]", "1", "\"s\"", "{,}", "{\"a\":1,}", "{\"a\" 1}", "{'a':1}", "{\"a\":01}",
                "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":\"\u0001\"}", "{\"a\":\"\\x\"}",
                "{\"a\":[1 2]}", "{} ", "{\"a\":1}}", "{\"a\":NaN}")) {
            assertFalse(complete(g, bad), bad);
        }
        byte[] loneContinuation = {'{', '"', (byte) 0x80, '"', ':', '1', '}'};
        byte[] overlong = {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'};
        byte[] surrogate = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'};
        for (byte[] b : List.of(loneContinuation, overlong, surrogate)) {
            JsonMachine m = new JsonMachine(g);
            int[] st = m.start();
            boolean all = true;
            for (byte x : b) {
                all &= m.step(st, x & 0xFF);
                if (!all) {
                    break;
                }
            }
            assertFalse(all, "invalid UTF-8 in a string");
        }
        JsonMachine m = new JsonMachine(g);
        int[] st = m.start();
        accepted(m, st, "{\"");
        assertTrue(m.step(st, 0xF4));
        assertEquals(3 + "\":0}".length(), m.cost(st), "three continuation bytes, then the quote, a value, the brace");
        for (int lead : new int[] {0xC3, 0xE0, 0xE1, 0xED, 0xF0, 0xF1}) {
            int[] s2 = m.start();
            accepted(m, s2, "{\"");
            assertTrue(m.step(s2, lead));
            int conts = lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
            assertEquals(conts + 4, m.cost(s2), "lead 0x" + Integer.toHexString(lead));
        }
        assertFalse(prefix(g, "{" + " ".repeat(JsonMachine.MAX_WS + 1)), "whitespace runs are bounded");
        assertFalse(prefix(g, "{\"a\":" + "1".repeat(JsonMachine.MAX_DIGITS + 1)), "digits are bounded");
        assertFalse(prefix(g, "{\"a\":" + "[".repeat(JsonMachine.MAX_FRAMES)), "nesting is bounded");
    }

    @Test
    void declaredPropertiesComeInOrderRequiredOnesAlways() {
        JsonGrammar g = SchemaCompiler.schema(schema("""
                {"type":"object","properties":{
                  "name":{"type":"string","minLength":2,"maxLength":4},
                  "age":{"type":"integer"},
                  "tags":{"type":"array","items":{"enum":["a","b",3,null]},"minItems":1,"maxItems":2},
                  "ok":{"type":["boolean","null"]}},
                 "required":["name","tags"]}"""));
        assertTrue(complete(g, "{\"name\":\"abc\",\"tags\":[\"a\"]}"));
        assertTrue(complete(g, "{\"name\":\"ab\",\"age\":-7,\"tags\":[3,null],\"ok\":null}"));
        assertTrue(complete(g, "{\"name\":\"ab\",\"tags\":[\"b\"],\"ok\":true}"));
        assertFalse(complete(g, "{\"tags\":[\"a\"],\"name\":\"abc\"}"), "declaration order");
        assertFalse(complete(g, "{\"name\":\"abc\"}"), "tags is required");
        assertFalse(complete(g, "{\"name\":\"a\",\"tags\":[\"a\"]}"), "minLength");
        assertFalse(complete(g, "{\"name\":\"abcde\",\"tags\":[\"a\"]}"), "maxLength");
        assertFalse(complete(g, "{\"name\":\"ab\",\"tags\":[]}"), "minItems");
        assertFalse(complete(g, "{\"name\":\"ab\",\"tags\":[\"a\",\"b\",\"a\"]}"), "maxItems");
        assertFalse(complete(g, "{\"name\":\"ab\",\"tags\":[\"c\"]}"), "enum");
        assertFalse(complete(g, "{\"name\":\"ab\",\"age\":1.5,\"tags\":[\"a\"]}"), "integer");
        assertFalse(complete(g, "{\"name\":\"ab\",\"tags\":[\"a\"],\"extra\":1}"), "undeclared");

        JsonMachine m = new JsonMachine(g);
        int[] st = m.start();
        String smallest = "{\"name\":\"xx\",\"tags\":[3]}";
        assertEquals(smallest.length(), m.cost(st), "the fewest bytes of a valid value");
        String prefix = "{\"name\":\"abc\",\"ag";
        accepted(m, st, prefix);
        assertEquals("e\":0,\"tags\":[3]}".length(), m.cost(st));
    }

    @Test
    void refusedSchemasNameWhatCannotBeEnforced() {
        for (String[] c : new String[][] {
                {"{\"anyOf\":[{\"type\":\"string\"}]}", "'anyOf'"},
                {"{\"type\":\"string\",\"pattern\":\"^a\"}", "'pattern'"},
                {"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0}}}", "'minimum' at #/properties/n"},
                {"{\"type\":\"string\",\"format\":\"date-time\"}", "'format'"},
                {"{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/n\"}}}},\"$ref\":\"#/$defs/n\"}", "recursive"},
                {"{\"type\":\"object\",\"required\":[\"x\"]}", "'x'"},
                {"{\"type\":\"array\",\"uniqueItems\":true}", "'uniqueItems'"},
                {"{\"$ref\":\"https://example.com/s.json\"}", "$ref"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SchemaCompiler.schema(schema(c[0])), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        JsonGrammar ref = SchemaCompiler.schema(schema("{\"$defs\":{\"p\":{\"type\":\"object\",\"properties\":"
                + "{\"x\":{\"type\":\"number\"}},\"required\":[\"x\"]}},\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/p\"},"
                + "\"title\":\"ignored\",\"x-vendor\":1}"));
        assertTrue(complete(ref, "[{\"x\":1},{\"x\":2.5}]"));
        assertFalse(complete(ref, "[{}]"));
    }
}
