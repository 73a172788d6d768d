package io.streamingllm.core.agent;

import io.streamingllm.core.engine.ToolDefinition;

import java.util.List;

/**
 * An agent: {@code AGENTS_DIR/{id}.md} with front matter id, name, system_prompt, tools and a markdown body.
 *
 * @param tools the functions every turn of the agent's conversations offers the model (front matter {@code tools:});
 *              empty when it declares none
 */
public record Agent(String id, String name, String systemPrompt, String markdownContext, List<ToolDefinition> tools) {
    public Agent {
        tools = tools == null ? List.of() : List.copyOf(tools);
    }

    /** An agent that offers no tools. */
    public Agent(String id, String name, String systemPrompt, String markdownContext) {
        this(id, name, systemPrompt, markdownContext, List.of());
    }
}
