package io.streamingllm.core.store;

/**
 * One turn at a time per conversation across processes that share a store. Within a process the sessions already
 * hold a conversation for one turn at a time; this adds the lock other processes see. With files nothing else can
 * write the store ({@link #LOCAL}). Thread-safe.
 */
public interface TurnLocks extends AutoCloseable {

    /** Every lock granted: the files belong to one process (the data directory is locked). */
    TurnLocks LOCAL = new TurnLocks() {
        @Override
        public boolean tryLock(String conversationId) {
            return true;
        }

        @Override
        public void unlock(String conversationId) {
        }

        @Override
        public void close() {
        }
    };

    /**
     * Holds the conversation for a turn; false, at once, when another process holds it. A process may hold a
     * conversation it holds again (the holds are counted: each true needs its {@link #unlock}).
     */
    boolean tryLock(String conversationId);

    /** Lets go of one hold of a conversation this process holds; other processes may take it after the last. */
    void unlock(String conversationId);

    @Override
    void close();
}
