package io.streamingllm.core.agent;

/** An agent: {@code AGENTS_DIR/{id}.md} with front matter id, name, system_prompt and a markdown body. */
public record Agent(String id, String name, String systemPrompt, String markdownContext) {
}
