package io.streamingllm.core.agent;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Markdown agents in one directory; seeds {@code planner} and {@code researcher} when absent. Thread-safe. */
public final class AgentStore {
    public AgentStore(Path agentsDir) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    public List<Agent> list() {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    public Optional<Agent> get(String id) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Creates or replaces; fields are trimmed; a blank or invalid id throws. */
    public Agent upsert(Agent agent) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Removes file and cache entry; false when there was no such agent. */
    public boolean delete(String id) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }
}
