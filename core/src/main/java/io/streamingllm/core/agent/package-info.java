/**
 * Agents: markdown files in {@code AGENTS_DIR}, each {@code {id}.md} with YAML front matter ({@code id}, {@code name},
 * {@code system_prompt}) and a markdown body that becomes the agent's context. An agent's system prompt and context
 * form the attention sink of every conversation it owns. {@code planner} and {@code researcher} are seeded when absent.
 */
package io.streamingllm.core.agent;
