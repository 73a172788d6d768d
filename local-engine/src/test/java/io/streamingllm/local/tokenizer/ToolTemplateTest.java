package io.streamingllm.local.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.local.json.JsonMode;
import io.streamingllm.local.template.ChatTemplate;
import io.streamingllm.local.template.ChatTemplate.Family;
import io.streamingllm.local.template.ChatTemplate.ToolFormat;
import io.streamingllm.local.template.ToolCallText;
import jakarta.json.Json;
import java.io.StringReader;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Tool formats of chat templates (issue 14, point 7): detected from {@code tokenizer.chat_template}, the tools, calls
 * and results rendered as Qwen 2.5's and Llama 3.1's templates write them, and calls parsed out of generated text.
 * Lives in the tokenizer package to build vocabularies with {@link SyntheticVocab}.
 */
class ToolTemplateTest {
    /** The tool parts of Qwen 2.5's tokenizer.chat_template (Qwen/Qwen2.5-7B-Instruct), enough to recognise it. */
    static final String QWEN25_TEMPLATE = "{%- if tools %}{{- '<|im_start|>system\\n' }}{{- \"\\n\\n# Tools\\n\\nYou may call "
            + "one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within "
            + "<tools></tools> XML tags:\\n<tools>\" }}{%- for tool in tools %}{{- \"\\n\" }}{{- tool | tojson }}{%- endfor %}"
            + "{{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within "
            + "<tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": "
            + "<args-json-object>}\\n</tool_call><|im_end|>\\n\" }}{%- endif %}{%- for message in messages %}"
            + "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}";
    /** The tool parts of Llama 3.1's template (meta-llama/Llama-3.1-8B-Instruct). */
    static final String LLAMA31_TEMPLATE = "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{%- if builtin_tools "
            + "is defined or tools is not none %}{{- \"Environment: ipython\\n\" }}{%- endif %}{%- for message in messages %}"
            + "{%- if message.role == \"tool\" or message.role == \"ipython\" %}{{- \"<|start_header_id|>ipython"
            + "<|end_header_id|>\\n\\n\" }}{%- endif %}{%- endfor %}";

    static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Weather of a city",
            Json.createReader(new StringReader("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                    + "\"required\":[\"city\"]}")).readObject());

    private static SyntheticVocab chatml() {
        SyntheticVocab v = new SyntheticVocab().control("<|endoftext|>").control("<|im_start|>").control("<|im_end|>");
        return v.put("tokenizer.ggml.eos_token_id", v.id("<|endoftext|>")).put("tokenizer.ggml.add_bos_token", false)
                .put("tokenizer.chat_template", QWEN25_TEMPLATE);
    }

    private static SyntheticVocab llama3() {
        SyntheticVocab v = new SyntheticVocab().control("<|begin_of_text|>").control("<|end_of_text|>")
                .control("<|start_header_id|>").control("<|end_header_id|>").control("<|eot_id|>").control("<|eom_id|>");
        return v.put("tokenizer.ggml.bos_token_id", v.id("<|begin_of_text|>"))
                .put("tokenizer.ggml.eos_token_id", v.id("<|end_of_text|>")).put("tokenizer.ggml.add_bos_token", true)
                .put("tokenizer.chat_template", LLAMA31_TEMPLATE);
    }

    /** The ids as text, control tokens by their spelling. */
    private static String spell(Tokenizer tok, int[] ids) {
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            out.append(tok.isControl(id) ? tok.tokenText(id) : tok.decodePiece(id));
        }
        return out.toString();
    }

    private static final List<ChatMessage> LOOP = List.of(ChatMessage.system("Be brief."),
            ChatMessage.user("Weather in Paris?"),
            ChatMessage.toolCalls("", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"))),
            ChatMessage.toolResult("call_1", "get_weather", "{\"temp_c\": 21}"));

    @Test
    void qwen25RendersToolsInTheSystemMessageCallsAsToolCallBlocksAndResultsAsToolResponses() {
        SyntheticVocab v = chatml();
        Tokenizer tok = v.tokenizer("qwen2");
        ChatTemplate t = ChatTemplate.fromGguf(v.metadata("qwen2"), tok);
        assertEquals(Family.CHATML, t.family());
        assertEquals(ToolFormat.HERMES, t.toolFormat());
        String expected = "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with "
                + "the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather of a city\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
                + "\"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, return a json object with function name "
                + "and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                + "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
                + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                + "</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n{\"temp_c\": 21}\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, spell(tok, t.render(LOOP, List.of(WEATHER))));
        // a session's next turn: the results after the call it generated, two results in one user turn
        String followUp = spell(tok, t.renderFollowUp(List.of(ChatMessage.toolResult("a", "f", "1"),
                ChatMessage.toolResult("b", "f", "2"))));
        assertEquals("<|im_end|>\n<|im_start|>user\n<tool_response>\n1\n</tool_response>\n<tool_response>\n2\n"
                + "</tool_response><|im_end|>\n<|im_start|>assistant\n", followUp);
    }

    @Test
    void llama31RendersToolsInTheFirstUserMessageCallsAsJsonAndResultsAsIpythonTurns() {
        SyntheticVocab v = llama3();
        Tokenizer tok = v.tokenizer("llama3");
        ChatTemplate t = ChatTemplate.fromGguf(v.metadata("llama3"), tok);
        assertEquals(Family.LLAMA3, t.family());
        assertEquals(ToolFormat.LLAMA3_JSON, t.toolFormat());
        String expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON "
                + "for a function call with its proper arguments that best answers the given prompt.\n\nRespond in the "
                + "format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use "
                + "variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n"
                + "        \"description\": \"Weather of a city\",\n        \"parameters\": {\n            \"type\": "
                + "\"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": "
                + "\"string\"\n                }\n            },\n            \"required\": [\n                \"city\"\n"
                + "            ]\n        }\n    }\n}\n\nWeather in Paris?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": "
                + "{\"city\": \"Paris\"}}<|eot_id|>"
                + "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp_c\": 21}<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, spell(tok, t.render(LOOP, List.of(WEATHER))));
        assertTrue(t.stopTokenIds().contains(v.id("<|eom_id|>")), "a call's turn may end with <|eom_id|>");
    }

    @Test
    void templatesWithoutToolPartsHaveNoToolFormatAndRefuseTools() {
        SyntheticVocab v = chatml().put("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n"
                + "{{ m.content }}<|im_end|>\n{% endfor %}");
        ChatTemplate plainChatml = ChatTemplate.fromGguf(v.metadata("qwen2"), v.tokenizer("qwen2"));
        assertEquals(ToolFormat.NONE, plainChatml.toolFormat());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> plainChatml.render(LOOP, List.of(WEATHER)));
        assertEquals("this model's chat template has no tool format", e.getMessage());
        SyntheticVocab l = llama3().put("tokenizer.chat_template", "<|start_header_id|>{{ role }}<|end_header_id|>");
        assertEquals(ToolFormat.NONE, ChatTemplate.fromGguf(l.metadata("llama3"), l.tokenizer("llama3")).toolFormat(),
                "Llama 3.0's template knows no ipython turn");
        SyntheticVocab noTemplate = llama3();
        Map<String, Object> meta = noTemplate.metadata("llama3");
        meta.remove("tokenizer.chat_template");
        assertEquals(ToolFormat.NONE, ChatTemplate.fromGguf(meta, noTemplate.tokenizer("llama3")).toolFormat());
    }

    @Test
    void hermesCallsAreParsedOutOfTheTextAndHeldBackWhileStreaming() {
        String text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                + "</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Lyon\\\"}\"}\n"
                + "</tool_call>";
        ToolCallText.Parsed p = ToolCallText.parse(ToolFormat.HERMES, text, List.of(WEATHER));
        assertEquals("Let me check.", p.content());
        assertEquals(List.of("get_weather", "get_weather"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals("{\"city\":\"Paris\"}", p.calls().get(0).arguments());
        assertEquals("{\"city\":\"Lyon\"}", p.calls().get(1).arguments(), "arguments given as a string");
        assertTrue(p.calls().get(0).id().startsWith("call_"));
        assertEquals(ToolCall.stableId(0, "get_weather", "{\"city\":\"Paris\"}"), p.calls().get(0).id());

        assertEquals(5, ToolCallText.shown(ToolFormat.HERMES, "Hello<tool"), "a possible start of <tool_call> is held");
        assertEquals(6, ToolCallText.shown(ToolFormat.HERMES, "Hello <tool_call>\n{\"na"));
        assertEquals(8, ToolCallText.shown(ToolFormat.HERMES, "Hello <b"));
        assertEquals("Hello", ToolCallText.parse(ToolFormat.HERMES, "Hello", List.of(WEATHER)).content());

        IllegalArgumentException broken = assertThrows(IllegalArgumentException.class, () -> ToolCallText.parse(
                ToolFormat.HERMES, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par\n</tool_call>",
                List.of(WEATHER)));
        assertTrue(broken.getMessage().contains("not a JSON object"), broken.getMessage());
    }

    @Test
    void llamaJsonCallsNameAnOfferedToolAndOtherTextOrJsonStaysText() {
        ToolCallText.Parsed p = ToolCallText.parse(ToolFormat.LLAMA3_JSON,
                "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", List.of(WEATHER));
        assertEquals("", p.content());
        assertEquals(List.of(new ToolCall(ToolCall.stableId(0, "get_weather", "{\"city\":\"Paris\"}"), "get_weather",
                "{\"city\":\"Paris\"}")), p.calls());
        assertEquals(2, ToolCallText.parse(ToolFormat.LLAMA3_JSON, "<|python_tag|>{\"name\": \"get_weather\", "
                + "\"parameters\": {}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Nice\"}}", List.of(WEATHER))
                .calls().size());
        assertEquals(List.of(), ToolCallText.parse(ToolFormat.LLAMA3_JSON, "It is sunny.", List.of(WEATHER)).calls());
        ToolCallText.Parsed json = ToolCallText.parse(ToolFormat.LLAMA3_JSON, "{\"name\": \"Paris\", \"temp\": 21}",
                List.of(WEATHER));
        assertEquals(List.of(), json.calls(), "JSON naming no offered tool is the answer itself");
        assertEquals("{\"name\": \"Paris\", \"temp\": 21}", json.content());
        assertThrows(IllegalArgumentException.class, () -> ToolCallText.parse(ToolFormat.LLAMA3_JSON,
                "{\"name\": \"get_weather\", \"parameters\": {\"city\": ", List.of(WEATHER)));

        assertEquals(0, ToolCallText.shown(ToolFormat.LLAMA3_JSON, "  {\"name"), "an answer that starts as JSON is held");
        assertEquals(0, ToolCallText.shown(ToolFormat.LLAMA3_JSON, "<|py"));
        assertEquals(6, ToolCallText.shown(ToolFormat.LLAMA3_JSON, "It is "));
    }

    @Test
    void aForcedCallsMarkupIsSpelledAsTheTokenizerEncodesItAndArgumentsFallBackToAnyObject() {
        SyntheticVocab v = chatml().userDefined("<tool_call>").merge("n", "a").merge("na", "m").merge("nam", "e");
        Tokenizer tok = v.tokenizer("qwen2");
        JsonMode json = new JsonMode(tok, Set.of(v.id("<|im_end|>")));
        String opening = "<tool_call>\n{\"name\":";
        int[] spelled = json.spell(opening);
        assertArrayEquals(tok.encode(opening), spelled, "byte-level BPE reads back: its own encoding");
        assertEquals(v.id("<tool_call>"), spelled[0], "the user-defined marker is one token, as the model writes it");
        assertEquals(opening, tok.decode(spelled));

        // the fewest tokens of the arguments: the schema's smallest object, or {} when it cannot be enforced
        assertEquals("{\"city\":\"\"}".length(), json.arguments(WEATHER.parameters(), 100).leastTokens());
        for (String schema : List.of("{}", "{\"type\":\"string\"}",
                "{\"type\":\"object\",\"properties\":{\"at\":{\"type\":\"string\",\"format\":\"date-time\"}},\"required\":[\"at\"]}")) {
            assertEquals(2, json.arguments(Json.createReader(new StringReader(schema)).readObject(), 100).leastTokens(), schema);
        }
    }
}
