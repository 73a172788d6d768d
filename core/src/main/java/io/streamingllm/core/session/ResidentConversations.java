package io.streamingllm.core.session;

import io.streamingllm.core.store.TurnLocks;

import java.util.Iterator;
import java.util.Map.Entry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The conversations held in memory. A conversation comes in from the log on first use and is held by one turn
 * at a time ({@link #acquire}/{@link #release}); past {@code maxResident}, the least recently used idle ones
 * leave memory and come back from the log unchanged. A conversation that left stays busy for good, so whoever
 * still holds it retries and loads it afresh. Thread-safe.
 *
 * <p>With a store other processes share, a turn also holds the conversation's {@link TurnLocks lock} (another
 * process holding it is BUSY, as a turn under way here is), and a held conversation whose store has events this
 * process has not seen is loaded afresh before its prompt is built.
 */
final class ResidentConversations {
    private final ConversationLoader loader;
    private final TurnLocks locks;
    private final int maxResident;
    /** Sized for maxResident (and the turns under way past it): they never double while turns wait. */
    private final ConcurrentHashMap<String, ConversationState> resident;
    private final ConcurrentHashMap<String, Long> lastUsed;
    /** Conversations by last use, oldest first; an entry whose time {@link #lastUsed} no longer holds is stale. */
    private final ConcurrentSkipListMap<Long, String> byLastUse = new ConcurrentSkipListMap<>();
    private final AtomicLong clock = new AtomicLong();

    /** @param maxResident how many idle conversations stay in memory before the least recently used leave */
    ResidentConversations(ConversationLoader loader, int maxResident) {
        this(loader, TurnLocks.LOCAL, maxResident);
    }

    /** @param locks one turn at a time per conversation across the processes sharing the store */
    ResidentConversations(ConversationLoader loader, TurnLocks locks, int maxResident) {
        this.loader = loader;
        this.locks = locks;
        this.maxResident = Math.max(1, maxResident);
        int expected = (int) Math.min(1 << 16, this.maxResident + 1024L);
        this.resident = new ConcurrentHashMap<>(expected);
        this.lastUsed = new ConcurrentHashMap<>(expected);
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
            if (!tryLock(c)) {
                throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId
                        + " has a turn under way on another replica; one turn at a time");
            }
            if (stale(c)) {
                // another process appended: this state leaves memory (busy for good) and is loaded afresh
                locks.unlock(conversationId);
                resident.remove(conversationId, c);
                continue;
            }
            touch(conversationId);
            trim();
            return c;
        }
    }

    /**
     * Lets go of a conversation after its turn. Other processes get it only once the summary rewrite the turn
     * scheduled (llm mode) is done, so that their next prompt has it; a next turn here waits for it as before.
     */
    void release(ConversationState c) {
        CompletableFuture<Void> rewrite = c.pendingSummary;
        if (rewrite.isDone()) {
            locks.unlock(c.id);
        } else {
            rewrite.whenComplete((done, failed) -> locks.unlock(c.id));
        }
        c.busy.set(false);
    }

    /** Lets other processes have a conversation taken out by {@link #remove} once it is archived. */
    void removed(ConversationState c) {
        locks.unlock(c.id);
    }

    /**
     * Takes the cross-process lock of {@code c}, held here; false (and {@code c} let go) when another process holds
     * it. A store that cannot be asked refuses the turn as a log that cannot write does.
     */
    private boolean tryLock(ConversationState c) {
        boolean got;
        try {
            got = locks.tryLock(c.id);
        } catch (RuntimeException e) {
            c.busy.set(false);
            throw new SessionException(SessionException.Kind.LOG_UNAVAILABLE, "the store cannot take the turn lock"
                    + " of conversation " + c.id + ": " + e.getMessage());
        }
        if (!got) {
            c.busy.set(false);
        }
        return got;
    }

    /** Whether {@code c}, held, misses events another process appended (it waits for its own summary rewrite). */
    private boolean stale(ConversationState c) {
        try {
            c.pendingSummary.join();
        } catch (RuntimeException failedRewrite) {
            // a rewrite that failed left the extractive summary; the events decide
        }
        try {
            return loader.stale(c);
        } catch (RuntimeException e) {
            locks.unlock(c.id);
            c.busy.set(false);
            throw e;
        }
    }

    /** Drops a conversation whose turn the log could not take: its state is rebuilt from the log on next use. */
    void forget(ConversationState c) {
        resident.remove(c.id, c);
    }

    /** An existing conversation, loaded from the log when needed; null if it has no log. */
    ConversationState find(String conversationId) {
        ConversationState c = resident.get(conversationId);
        if (c != null && loader.shared() && c.pendingSummary.isDone() && c.busy.compareAndSet(false, true)) {
            boolean stale = true;
            try {
                stale = loader.stale(c);
            } finally {
                if (stale) {
                    resident.remove(conversationId, c); // another process appended: read afresh (this one stays busy)
                    c = null;
                } else {
                    c.busy.set(false);
                }
            }
        }
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
        if (!tryLock(c)) {
            throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId
                    + " has a turn under way on another replica");
        }
        resident.remove(conversationId, c);
        lastUsed.remove(conversationId);
        return c;
    }

    int size() {
        return resident.size();
    }

    private void touch(String id) {
        long now = clock.incrementAndGet();
        byLastUse.put(now, id);
        Long before = lastUsed.put(id, now);
        if (before != null) {
            byLastUse.remove(before, id);
        }
    }

    /**
     * Sends the least recently used idle conversations out of memory; they reload from the log on use. Walks the
     * conversations oldest first and stops when enough left: sorting all of them on every turn, as this did, cost
     * a turn start ~1 ms of CPU once more than {@code maxResident} (4,096 by default) were in memory.
     */
    private void trim() {
        int excess = resident.size() - maxResident;
        for (Iterator<Entry<Long, String>> it = byLastUse.entrySet().iterator(); excess > 0 && it.hasNext(); ) {
            Entry<Long, String> e = it.next();
            String id = e.getValue();
            if (!e.getKey().equals(lastUsed.get(id))) {
                it.remove(); // a use since, or gone: its newer entry (if any) stands for it
                continue;
            }
            ConversationState c = resident.get(id);
            if (c == null) {
                it.remove();
                lastUsed.remove(id, e.getKey());
                continue;
            }
            if (!c.busy.compareAndSet(false, true)) {
                continue;
            }
            // read only once held: the turn that scheduled an llm rewrite wrote it before letting go of busy
            if (!c.pendingSummary.isDone()) {
                c.busy.set(false);
                continue;
            }
            resident.remove(id, c);
            lastUsed.remove(id, e.getKey());
            it.remove();
            excess--;
        }
    }
}
