package io.streamingllm.core.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Map.Entry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The conversations held in memory. A conversation comes in from the log on first use and is held by one turn
 * at a time ({@link #acquire}/{@link #release}); past {@code maxResident}, the least recently used idle ones
 * leave memory and come back from the log unchanged. A conversation that left stays busy for good, so whoever
 * still holds it retries and loads it afresh. Thread-safe.
 */
final class ResidentConversations {
    private final ConversationLoader loader;
    private final int maxResident;
    private final ConcurrentHashMap<String, ConversationState> resident = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> lastUsed = new ConcurrentHashMap<>();
    private final AtomicLong clock = new AtomicLong();

    /** @param maxResident how many idle conversations stay in memory before the least recently used leave */
    ResidentConversations(ConversationLoader loader, int maxResident) {
        this.loader = loader;
        this.maxResident = Math.max(1, maxResident);
    }

    /**
     * Holds a conversation for a turn, loading it or starting it (owned by {@code agentIfNew}); throws
     * {@link SessionException} BUSY while another turn holds it, AGENT_MISMATCH when {@code agentMustMatch}
     * and another agent owns it.
     */
    ConversationState acquire(String conversationId, String agentIfNew, boolean agentMustMatch) {
        while (true) {
            ConversationState c = resident.computeIfAbsent(conversationId, id -> {
                ConversationState loaded = loader.load(id);
                return loaded != null ? loaded : new ConversationState(id, agentIfNew);
            });
            if (agentMustMatch && !c.agentId.equals(agentIfNew)) {
                throw new SessionException(SessionException.Kind.AGENT_MISMATCH, "conversation " + conversationId
                        + " belongs to agent " + c.agentId + ", not " + agentIfNew);
            }
            if (!c.busy.compareAndSet(false, true)) {
                if (resident.get(conversationId) == c) {
                    throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId
                            + " has a turn under way; one turn at a time");
                }
                continue;
            }
            if (resident.get(conversationId) != c) {
                continue; // left memory (or was archived) between lookup and lock: load afresh
            }
            touch(conversationId);
            trim();
            return c;
        }
    }

    void release(ConversationState c) {
        c.busy.set(false);
    }

    /** Drops a conversation whose turn the log could not take: its state is rebuilt from the log on next use. */
    void forget(ConversationState c) {
        resident.remove(c.id, c);
    }

    /** An existing conversation, loaded from the log when needed; null if it has no log. */
    ConversationState find(String conversationId) {
        ConversationState c = resident.get(conversationId);
        if (c != null) {
            touch(conversationId);
            return c;
        }
        if (!loader.exists(conversationId)) {
            return null;
        }
        c = resident.computeIfAbsent(conversationId, loader::load);
        if (c != null) {
            touch(conversationId);
            trim();
        }
        return c;
    }

    /** The conversation if it is in memory now; null otherwise. Does not count as a use. */
    ConversationState ifResident(String conversationId) {
        return resident.get(conversationId);
    }

    /**
     * Takes an existing conversation out of memory for good, to be archived; null if it has no log.
     * Throws {@link SessionException} BUSY mid-turn.
     */
    ConversationState remove(String conversationId) {
        ConversationState c = find(conversationId);
        if (c == null) {
            return null;
        }
        if (!c.busy.compareAndSet(false, true)) {
            throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId + " has a turn under way");
        }
        resident.remove(conversationId, c);
        lastUsed.remove(conversationId);
        return c;
    }

    int size() {
        return resident.size();
    }

    private void touch(String id) {
        lastUsed.put(id, clock.incrementAndGet());
    }

    /** Sends the least recently used idle conversations out of memory; they reload from the log on use. */
    private void trim() {
        int excess = resident.size() - maxResident;
        if (excess <= 0) {
            return;
        }
        List<Entry<String, Long>> byAge = new ArrayList<>(lastUsed.entrySet());
        byAge.sort(Entry.comparingByValue());
        for (Entry<String, Long> e : byAge) {
            if (excess <= 0) {
                break;
            }
            ConversationState c = resident.get(e.getKey());
            if (c == null || !c.busy.compareAndSet(false, true)) {
                continue;
            }
            // read only once held: the turn that scheduled an llm rewrite wrote it before letting go of busy
            if (!c.pendingSummary.isDone()) {
                c.busy.set(false);
                continue;
            }
            resident.remove(e.getKey(), c);
            lastUsed.remove(e.getKey());
            excess--;
        }
    }
}
