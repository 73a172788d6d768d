package io.streamingllm.local.template;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.local.tokenizer.SpecialTokens;
import io.streamingllm.local.tokenizer.Tokenizer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns chat messages into the prompt token ids a model was trained on, ending with the assistant's header so that
 * generation continues as the assistant.
 *
 * <p>The family comes from the {@code tokenizer.chat_template} metadata (a Jinja template, recognised by its
 * markers, not executed) or, without one, from the vocabulary:
 * <ul>
 *   <li>{@link Family#LLAMA3}: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} per message
 *       (content trimmed, as Meta's template does);</li>
 *   <li>{@link Family#CHATML} (Qwen2, Qwen3 and others): {@code <|im_start|>role\ncontent<|im_end|>\n} per message;
 *       no default system message is added (Qwen3's template renders no thinking block for the answer to come
 *       either);</li>
 *   <li>{@link Family#GEMMA} (Gemma 3): {@code <start_of_turn>role\ncontent<end_of_turn>\n} per message (content
 *       trimmed), the assistant's role named {@code model}, system text put before the next message's content
 *       followed by a blank line, as Gemma's template folds the system message into the first user turn;</li>
 *   <li>{@link Family#LLAMA2}: {@code <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer </s>}, the system
 *       message folded into the first user turn;</li>
 *   <li>{@link Family#TRANSCRIPT}, the fallback when the model has a template of another family: one line
 *       {@code role: content} per message, then {@code assistant:};</li>
 *   <li>{@link Family#PLAIN}, for models with no template and no chat markers (such as the llama2.c story
 *       models): the message contents joined by newlines, so a single user message is a plain completion
 *       prompt.</li>
 * </ul>
 * Marker tokens are inserted by id and message text is encoded without special-token parsing, so a user typing
 * {@code <|eot_id|>} cannot end a turn. BOS is prepended when the model adds one ({@code add_bos_token}).
 */
public final class ChatTemplate {
    public enum Family { LLAMA2, LLAMA3, CHATML, GEMMA, TRANSCRIPT, PLAIN }

    /**
     * How a model's template offers tools and how the model calls them: {@link #HERMES} (ChatML, Qwen 2.5 and
     * others whose template has {@code <tool_call>}): the tools as JSON lines in {@code <tools>} in the system
     * message, a call as {@code <tool_call>
{"name": …, "arguments": {…}}
</tool_call>}, results in
     * {@code <tool_response>} of a user turn; {@link #LLAMA3_JSON} (Llama 3.1 and later, whose template knows the
     * {@code ipython} role): the tools in the first user message, a call as {@code {"name": …, "parameters": {…}}},
     * results as {@code ipython} turns; {@link #NONE} for every other template.
     */
    public enum ToolFormat { NONE, HERMES, LLAMA3_JSON }

    /** Llama 3.1's template without a {@code date_string}: the date it was released with. */
    static final String LLAMA31_PREAMBLE = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";

    private final Family family;
    private final ToolFormat toolFormat;
    private final Tokenizer tokenizer;
    private final Set<Integer> stopTokenIds;

    public ChatTemplate(Family family, Tokenizer tokenizer) {
        this(family, ToolFormat.NONE, tokenizer);
    }

    public ChatTemplate(Family family, ToolFormat toolFormat, Tokenizer tokenizer) {
        this.family = Objects.requireNonNull(family, "family");
        this.toolFormat = Objects.requireNonNull(toolFormat, "toolFormat");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        Set<Integer> stops = new LinkedHashSet<>(tokenizer.specialTokens().endOfGeneration());
        switch (family) {
            case LLAMA3 -> {
                stops.add(require("<|eot_id|>"));
                if (tokenizer.tokenId("<|eom_id|>") >= 0) {
                    stops.add(tokenizer.tokenId("<|eom_id|>")); // Llama 3.1 ends a tool call's turn with it
                }
                require("<|start_header_id|>");
                require("<|end_header_id|>");
            }
            case CHATML -> {
                stops.add(require("<|im_end|>"));
                require("<|im_start|>");
            }
            case GEMMA -> {
                stops.add(require("<end_of_turn>"));
                require("<start_of_turn>");
            }
            default -> {
            }
        }
        stopTokenIds = Set.copyOf(stops);
    }

    /** The template for a model: family from {@code tokenizer.chat_template} or the vocabulary, see the class doc. */
    public static ChatTemplate fromGguf(Map<String, Object> metadata, Tokenizer tokenizer) {
        Object template = metadata.get("tokenizer.chat_template");
        String text = template instanceof String s ? s : null;
        Family family = detect(text, tokenizer);
        return new ChatTemplate(family, toolFormat(family, text), tokenizer);
    }

    /** The tool format a Jinja chat template (may be null) of {@code family} renders, see {@link ToolFormat}. */
    public static ToolFormat toolFormat(Family family, String chatTemplate) {
        if (chatTemplate == null) {
            return ToolFormat.NONE;
        }
        if (family == Family.CHATML && chatTemplate.contains("<tool_call>")) {
            return ToolFormat.HERMES;
        }
        if (family == Family.LLAMA3 && chatTemplate.contains("ipython")) {
            return ToolFormat.LLAMA3_JSON;
        }
        return ToolFormat.NONE;
    }

    /** The family a Jinja chat template (may be null) and a vocabulary point to. */
    public static Family detect(String chatTemplate, Tokenizer tokenizer) {
        if (chatTemplate != null && !chatTemplate.isBlank()) {
            if (chatTemplate.contains("<|start_header_id|>") && tokenizer.tokenId("<|start_header_id|>") >= 0) {
                return Family.LLAMA3;
            }
            if (chatTemplate.contains("<|im_start|>") && tokenizer.tokenId("<|im_start|>") >= 0) {
                return Family.CHATML;
            }
            if (chatTemplate.contains("<start_of_turn>") && tokenizer.tokenId("<start_of_turn>") >= 0
                    && tokenizer.tokenId("<end_of_turn>") >= 0) {
                return Family.GEMMA;
            }
            if (chatTemplate.contains("[INST]")) {
                return Family.LLAMA2;
            }
            return Family.TRANSCRIPT;
        }
        if (tokenizer.tokenId("<|start_header_id|>") >= 0 && tokenizer.tokenId("<|eot_id|>") >= 0
                && tokenizer.tokenId("<|end_header_id|>") >= 0) {
            return Family.LLAMA3;
        }
        if (tokenizer.tokenId("<|im_start|>") >= 0 && tokenizer.tokenId("<|im_end|>") >= 0) {
            return Family.CHATML;
        }
        if (tokenizer.tokenId("<start_of_turn>") >= 0 && tokenizer.tokenId("<end_of_turn>") >= 0) {
            return Family.GEMMA;
        }
        return Family.PLAIN;
    }

    public Family family() {
        return family;
    }

    public ToolFormat toolFormat() {
        return toolFormat;
    }

    /** Ids that end the assistant's turn: the model's end-of-generation tokens plus the family's end-of-turn. */
    public Set<Integer> stopTokenIds() {
        return stopTokenIds;
    }

    /** The prompt ids for {@code messages}, ending where the assistant's answer begins. */
    public int[] render(List<ChatMessage> messages) {
        return render(messages, List.of());
    }

    /**
     * As above, offering {@code tools} in the {@link #toolFormat}'s way (none: the tools must be empty; callers refuse
     * tools for such templates before they get here).
     */
    public int[] render(List<ChatMessage> messages, List<ToolDefinition> tools) {
        Objects.requireNonNull(messages, "messages");
        if (!tools.isEmpty() && toolFormat == ToolFormat.NONE) {
            throw new IllegalArgumentException("this model's chat template has no tool format");
        }
        if (toolFormat == ToolFormat.HERMES) {
            return renderHermes(messages, tools);
        }
        if (toolFormat == ToolFormat.LLAMA3_JSON) {
            return renderLlama31(messages, tools);
        }
        Prompt p = new Prompt();
        SpecialTokens special = tokenizer.specialTokens();
        boolean addBos = special.addBos() && special.bos() >= 0;
        switch (family) {
            case LLAMA3 -> {
                if (addBos) {
                    p.token(special.bos());
                }
                for (ChatMessage m : messages) {
                    llama3Header(p, llama3Role(m.role()));
                    p.text(m.content().strip());
                    p.token(require("<|eot_id|>"));
                }
                llama3Header(p, "assistant");
            }
            case CHATML -> {
                if (addBos) {
                    p.token(special.bos());
                }
                for (ChatMessage m : messages) {
                    p.token(require("<|im_start|>"));
                    p.text(m.role().wireName() + "\n" + m.content());
                    p.token(require("<|im_end|>"));
                    p.text("\n");
                }
                p.token(require("<|im_start|>"));
                p.text("assistant\n");
            }
            case LLAMA2 -> renderLlama2(p, messages, addBos, special);
            case GEMMA -> {
                if (addBos) {
                    p.token(special.bos());
                }
                renderGemma(p, messages);
            }
            case TRANSCRIPT -> {
                if (addBos) {
                    p.token(special.bos());
                }
                StringBuilder sb = new StringBuilder();
                for (ChatMessage m : messages) {
                    sb.append(m.role().wireName()).append(": ").append(m.content().strip()).append('\n');
                }
                p.text(sb.append("assistant:").toString());
            }
            case PLAIN -> {
                if (addBos) {
                    p.token(special.bos());
                }
                StringBuilder sb = new StringBuilder();
                for (ChatMessage m : messages) {
                    if (!sb.isEmpty()) {
                        sb.append('\n');
                    }
                    sb.append(m.content());
                }
                p.text(sb.toString());
            }
        }
        return p.ids();
    }

    /**
     * The ids that continue a cached conversation: they close the assistant answer just generated (whose
     * tokens are already in the KV cache, up to but not including the end-of-turn token that stopped it)
     * and add {@code messages}, ending where the next answer begins — what {@link #render} would add
     * after the answer for a conversation that ends with those messages. System messages are not
     * expected here (a session's system prompt is rendered once, with its first turn); llama2 folds one
     * into the next user turn, the others render it as a message.
     */
    public int[] renderFollowUp(List<ChatMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        Prompt p = new Prompt();
        if (toolFormat == ToolFormat.HERMES) {
            p.token(require("<|im_end|>"));
            p.text("\n");
            hermesMessages(p, messages);
            return p.ids();
        }
        if (toolFormat == ToolFormat.LLAMA3_JSON) {
            p.token(require("<|eot_id|>"));
            llama31Messages(p, messages);
            return p.ids();
        }
        SpecialTokens special = tokenizer.specialTokens();
        boolean addBos = special.addBos() && special.bos() >= 0;
        switch (family) {
            case LLAMA3 -> {
                p.token(require("<|eot_id|>"));
                for (ChatMessage m : messages) {
                    llama3Header(p, llama3Role(m.role()));
                    p.text(m.content().strip());
                    p.token(require("<|eot_id|>"));
                }
                llama3Header(p, "assistant");
            }
            case CHATML -> {
                p.token(require("<|im_end|>"));
                p.text("\n");
                for (ChatMessage m : messages) {
                    p.token(require("<|im_start|>"));
                    p.text(m.role().wireName() + "\n" + m.content());
                    p.token(require("<|im_end|>"));
                    p.text("\n");
                }
                p.token(require("<|im_start|>"));
                p.text("assistant\n");
            }
            case LLAMA2 -> {
                p.text(" ");
                closeLlama2Turn(p, special);
                renderLlama2(p, messages, addBos, special);
            }
            case GEMMA -> {
                p.token(require("<end_of_turn>"));
                p.text("\n");
                renderGemma(p, messages);
            }
            case TRANSCRIPT -> {
                StringBuilder sb = new StringBuilder("\n");
                for (ChatMessage m : messages) {
                    sb.append(m.role().wireName()).append(": ").append(m.content().strip()).append('\n');
                }
                p.text(sb.append("assistant:").toString());
            }
            case PLAIN -> {
                StringBuilder sb = new StringBuilder();
                for (ChatMessage m : messages) {
                    sb.append('\n').append(m.content());
                }
                p.text(sb.toString());
            }
        }
        return p.ids();
    }

    /**
     * Qwen 2.5's template: with tools, a system message whose text (the first system message's, if any) is followed
     * by the tools block; then the messages ({@link #hermesMessages}).
     */
    private int[] renderHermes(List<ChatMessage> messages, List<ToolDefinition> tools) {
        Prompt p = new Prompt();
        SpecialTokens special = tokenizer.specialTokens();
        if (special.addBos() && special.bos() >= 0) {
            p.token(special.bos());
        }
        List<ChatMessage> rest = messages;
        if (!tools.isEmpty()) {
            String system = "";
            if (!messages.isEmpty() && messages.getFirst().role() == ChatMessage.Role.SYSTEM) {
                system = messages.getFirst().content();
                rest = messages.subList(1, messages.size());
            }
            StringBuilder sb = new StringBuilder("system\n").append(system).append(system.isEmpty() ? "" : "\n\n")
                    .append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
            for (ToolDefinition t : tools) {
                sb.append('\n').append(PyJson.dumps(toolJson(t), -1));
            }
            sb.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                    + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                    + "\"arguments\": <args-json-object>}\n</tool_call>");
            p.token(require("<|im_start|>"));
            p.text(sb.toString());
            p.token(require("<|im_end|>"));
            p.text("\n");
        }
        hermesMessages(p, rest);
        return p.ids();
    }

    /**
     * ChatML turns as Qwen 2.5's template writes them, then the assistant's header: an assistant message's calls as
     * {@code <tool_call>} blocks after its text, consecutive tool results as {@code <tool_response>} blocks of one
     * user turn.
     */
    private void hermesMessages(Prompt p, List<ChatMessage> messages) {
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role() == ChatMessage.Role.TOOL) {
                if (i == 0 || messages.get(i - 1).role() != ChatMessage.Role.TOOL) {
                    p.token(require("<|im_start|>"));
                    p.text("user");
                }
                p.text("\n<tool_response>\n" + m.content() + "\n</tool_response>");
                if (i == messages.size() - 1 || messages.get(i + 1).role() != ChatMessage.Role.TOOL) {
                    p.token(require("<|im_end|>"));
                    p.text("\n");
                }
                continue;
            }
            p.token(require("<|im_start|>"));
            if (m.role() == ChatMessage.Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                StringBuilder sb = new StringBuilder("assistant");
                if (!m.content().isEmpty()) {
                    sb.append('\n').append(m.content());
                }
                for (ToolCall c : m.toolCalls()) {
                    sb.append("\n<tool_call>\n{\"name\": \"").append(c.name()).append("\", \"arguments\": ")
                            .append(PyJson.dumps(c.arguments())).append("}\n</tool_call>");
                }
                p.text(sb.toString());
            } else {
                p.text(m.role().wireName() + "\n" + m.content());
            }
            p.token(require("<|im_end|>"));
            p.text("\n");
        }
        p.token(require("<|im_start|>"));
        p.text("assistant\n");
    }

    /**
     * Llama 3.1's template: the system turn (with tools: {@code Environment: ipython} and the dates first), the tools
     * with their instructions in the first user message, then the messages ({@link #llama31Messages}).
     */
    private int[] renderLlama31(List<ChatMessage> messages, List<ToolDefinition> tools) {
        Prompt p = new Prompt();
        SpecialTokens special = tokenizer.specialTokens();
        if (special.addBos() && special.bos() >= 0) {
            p.token(special.bos());
        }
        if (tools.isEmpty()) {
            llama31Messages(p, messages);
            return p.ids();
        }
        List<ChatMessage> rest = messages;
        String system = "";
        if (!rest.isEmpty() && rest.getFirst().role() == ChatMessage.Role.SYSTEM) {
            system = rest.getFirst().content().strip();
            rest = rest.subList(1, rest.size());
        }
        llama3Header(p, "system");
        p.text("Environment: ipython\n" + LLAMA31_PREAMBLE + system);
        p.token(require("<|eot_id|>"));
        String firstUser = "";
        if (!rest.isEmpty() && rest.getFirst().role() == ChatMessage.Role.USER) {
            firstUser = rest.getFirst().content().strip();
            rest = rest.subList(1, rest.size());
        }
        StringBuilder sb = new StringBuilder("Given the following functions, please respond with a JSON for a function "
                + "call with its proper arguments that best answers the given prompt.\n\nRespond in the format "
                + "{\"name\": function name, \"parameters\": dictionary of argument name and its value}."
                + "Do not use variables.\n\n");
        for (ToolDefinition t : tools) {
            sb.append(PyJson.dumps(toolJson(t), 4)).append("\n\n");
        }
        llama3Header(p, "user");
        p.text(sb.append(firstUser).toString());
        p.token(require("<|eot_id|>"));
        llama31Messages(p, rest);
        return p.ids();
    }

    /**
     * Llama 3 turns, then the assistant's header: a call as the assistant's {@code {"name": …, "parameters": …}} (one
     * turn per call: the template knows one call a message), a tool's result as an {@code ipython} turn.
     */
    private void llama31Messages(Prompt p, List<ChatMessage> messages) {
        for (ChatMessage m : messages) {
            if (m.role() == ChatMessage.Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                for (ToolCall c : m.toolCalls()) {
                    llama3Header(p, "assistant");
                    p.text("{\"name\": \"" + c.name() + "\", \"parameters\": " + PyJson.dumps(c.arguments()) + "}");
                    p.token(require("<|eot_id|>"));
                }
                continue;
            }
            llama3Header(p, llama3Role(m.role()));
            p.text(m.role() == ChatMessage.Role.TOOL ? m.content() : m.content().strip());
            p.token(require("<|eot_id|>"));
        }
        llama3Header(p, "assistant");
    }

    /** A tool as templates get it: {@code {"type": "function", "function": {name, description, parameters}}}. */
    private static JsonObject toolJson(ToolDefinition t) {
        return Json.createObjectBuilder().add("type", "function").add("function", Json.createObjectBuilder()
                .add("name", t.name()).add("description", t.description()).add("parameters", t.parameters())).build();
    }

    /** Gemma turns, then the model's header; system text goes before the next turn's content. */
    private void renderGemma(Prompt p, List<ChatMessage> messages) {
        StringBuilder system = new StringBuilder();
        for (ChatMessage m : messages) {
            if (m.role() == ChatMessage.Role.SYSTEM) {
                system.append(m.content().strip()).append("\n\n");
                continue;
            }
            p.token(require("<start_of_turn>"));
            // Gemma knows only user and model turns: a tool's result is something the user side hands over
            p.text((m.role() == ChatMessage.Role.ASSISTANT ? "model" : "user") + "\n" + system
                    + m.content().strip());
            system.setLength(0);
            p.token(require("<end_of_turn>"));
            p.text("\n");
        }
        p.token(require("<start_of_turn>"));
        p.text("model\n" + system);
    }

    /** Llama 3.1 names the turn that carries a tool's result {@code ipython}. */
    private static String llama3Role(ChatMessage.Role role) {
        return role == ChatMessage.Role.TOOL ? "ipython" : role.wireName();
    }

    private void llama3Header(Prompt p, String role) {
        p.token(require("<|start_header_id|>"));
        p.text(role);
        p.token(require("<|end_header_id|>"));
        p.text("\n\n");
    }

    private void renderLlama2(Prompt p, List<ChatMessage> messages, boolean addBos, SpecialTokens special) {
        String system = null;
        boolean open = false; // a [INST] block awaits its answer
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case SYSTEM -> system = system == null ? m.content().strip() : system + "\n" + m.content().strip();
                case USER, TOOL -> { // llama2 has no tool turn: a tool's result is handed over as a user turn
                    if (open) {
                        p.text(" "); // two user turns in a row: close the first with an empty answer
                        closeLlama2Turn(p, special);
                    }
                    if (addBos) {
                        p.token(special.bos());
                    }
                    String sys = system == null ? "" : "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
                    system = null;
                    p.text("[INST] " + sys + m.content().strip() + " [/INST]");
                    open = true;
                }
                case ASSISTANT -> {
                    p.text(" " + m.content().strip() + " ");
                    closeLlama2Turn(p, special);
                    open = false;
                }
            }
        }
        if (!open) {
            // The conversation does not end with a user turn: open an empty one so the assistant answers.
            if (addBos) {
                p.token(special.bos());
            }
            String sys = system == null ? "" : "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
            p.text("[INST] " + sys + " [/INST]");
        }
    }

    private static void closeLlama2Turn(Prompt p, SpecialTokens special) {
        if (special.eos() >= 0) {
            p.token(special.eos());
        }
    }

    private int require(String text) {
        int id = tokenizer.tokenId(text);
        if (id < 0) {
            throw new IllegalStateException("the " + family + " chat template needs the token " + text
                    + ", which this vocabulary lacks");
        }
        return id;
    }

    /** Collects template ids: marker tokens by id, consecutive text joined and encoded as one fragment. */
    private final class Prompt {
        private final List<Integer> ids = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();

        void token(int id) {
            flushText();
            ids.add(id);
        }

        void text(String s) {
            text.append(s);
        }

        private void flushText() {
            if (!text.isEmpty()) {
                for (int id : tokenizer.encode(text.toString(), false)) {
                    ids.add(id);
                }
                text.setLength(0);
            }
        }

        int[] ids() {
            flushText();
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
