package io.streamingllm.core.agent;

import java.util.List;
import java.util.Optional;

/**
 * Where agents are kept: {@link AgentStore} (markdown files in {@code AGENTS_DIR}, the default) or the PostgreSQL
 * store, which keeps each agent's whole markdown document so that every front matter field round-trips. Thread-safe.
 */
public interface AgentRepository {

    /** Every agent, sorted by id. */
    List<Agent> list();

    Optional<Agent> get(String id);

    /** Creates or replaces; fields are trimmed; a blank or invalid id throws; a blank name becomes the id. */
    Agent upsert(Agent agent);

    /** Removes the agent; false when there was no such agent. */
    boolean delete(String id);
}
