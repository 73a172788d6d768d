package io.streamingllm.core.store;

import io.streamingllm.core.agent.AgentRepository;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.summary.SummaryRepository;
import io.streamingllm.core.summary.SummaryStore;

/**
 * The sidecar's durable state behind one seam: events, summaries, agents, and the cross-process turn locks. The
 * files ({@link #files}) are the default; the PostgreSQL store (module {@code store-postgres}) is another.
 * {@link #close} closes the events store and then whatever else the store holds (pools, connections).
 */
public record Store(EventStore events, SummaryRepository summaries, AgentRepository agents, TurnLocks locks,
                    AutoCloseable resources) implements AutoCloseable {

    /** The files under the configured directories: journal + JSONL logs, markdown summaries and agents. */
    public static Store files(SidecarConfig config) {
        AgentStore agents = new AgentStore(config.agentsDir());
        EventLog log = new EventLog(config.logDir(), EventLog.DEFAULT_MAX_OPEN_FILES, config.logRetry());
        try {
            return new Store(log, new SummaryStore(config.summaryDir()), agents, TurnLocks.LOCAL, () -> { });
        } catch (RuntimeException e) {
            log.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            events.close();
        } finally {
            try {
                locks.close();
                resources.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot close the store: " + e.getMessage(), e);
            }
        }
    }
}
