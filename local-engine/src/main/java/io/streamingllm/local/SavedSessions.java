package io.streamingllm.local;

import io.streamingllm.local.kv.KvStore;
import io.streamingllm.local.kv.SessionImage;
import io.streamingllm.local.model.KvCache;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Sessions on disk ({@link KvStore}): saved after every turn by a writer thread of their own, so a turn never
 * waits for the disk, restored when a conversation comes back after it left memory or after a restart.
 *
 * <p>The writer reads a session's cache while the worker leaves that session alone: a turn that starts on a
 * session whose save is still queued withdraws it (the turn's end queues a new one), and one whose save is
 * being written waits for it (at most one file write). A session that leaves memory stays reachable here until
 * its save is done, so its next turn takes it back instead of reading a file not yet written. At shutdown every
 * queued save is written. Saved state is always a state the session was in after a turn, so even a save
 * overtaken by later turns restores a cache that matches its own dialogue.
 *
 * <p>Confined to the worker thread, except the writer's own work; {@code leaving} is shared with it.
 */
final class SavedSessions {
    private static final System.Logger LOG = System.getLogger(SavedSessions.class.getName());
    private static final int QUEUED = 0, WRITING = 1, DONE = 2, WITHDRAWN = 3;

    private final KvStore store; // null: sessions live in memory only
    private final ExecutorService writer;
    private final Map<String, Session> leaving = new ConcurrentHashMap<>();

    private SavedSessions(KvStore store, String modelName) {
        this.store = store;
        this.writer = store == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "local-engine-kv-" + modelName);
            t.setDaemon(true);
            return t;
        });
    }

    static SavedSessions inMemoryOnly() {
        return new SavedSessions(null, "");
    }

    static SavedSessions on(KvStore store, String modelName) {
        return new SavedSessions(store, modelName);
    }

    /** The saved session of {@code key}: one leaving memory, else from disk; null when there is none. */
    Session restore(String key, Supplier<KvCache> fresh) {
        if (store == null || !KvStore.accepts(key)) {
            return null;
        }
        Session back = leaving.remove(key);
        if (back != null) {
            return back;
        }
        return store.load(key, fresh.get()).map(Session::restored).orElse(null);
    }

    /** Before a turn changes {@code s}: its queued save is withdrawn, or the one being written awaited. */
    void beforeUse(Session s) {
        Write w = s.write;
        if (w != null) {
            if (!w.withdraw()) {
                w.awaitDone();
            }
            s.write = null;
        }
    }

    /** After a turn of {@code key} on {@code s}: its new state is saved in the background. */
    void afterTurn(String key, Session s) {
        if (store == null || key == null || !KvStore.accepts(key)) {
            return;
        }
        Write w = new Write(key, s);
        s.write = w;
        try {
            writer.execute(w);
        } catch (RejectedExecutionException e) {
            s.write = null; // the writer stopped: only after the worker, so no turn ends any more
        }
    }

    /** {@code s} left memory: it stays reachable until its save is done (every turn's end queued one). */
    void leave(String key, Session s) {
        if (store == null || key == null) {
            return;
        }
        leaving.put(key, s);
        Write w = s.write;
        if (w == null || w.done()) {
            leaving.remove(key, s); // nothing pending: the file already holds this state
        }
    }

    /** The conversation is gone: its save is withdrawn or awaited, and its file deleted. */
    void forget(String key, Session inMemory) {
        if (store == null || !KvStore.accepts(key)) {
            return;
        }
        for (Session s : new Session[] {inMemory, leaving.remove(key)}) {
            if (s != null) {
                beforeUse(s);
            }
        }
        store.delete(key);
    }

    /** Waits until the saves queued so far are on disk (the writer runs them in order). */
    void awaitQueued() throws InterruptedException {
        if (store == null) {
            return;
        }
        try {
            writer.submit(() -> { }).get();
        } catch (RejectedExecutionException | ExecutionException e) {
            // stopped: close() waited for the saves already
        }
    }

    /** After the worker stopped: waits for every queued save (at most {@code timeoutSeconds}). */
    void close(long timeoutSeconds) {
        if (store == null) {
            return;
        }
        writer.shutdown();
        try {
            if (!writer.awaitTermination(timeoutSeconds, TimeUnit.SECONDS)) {
                LOG.log(Level.WARNING, "KV cache saves still running after " + timeoutSeconds + " s at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One save of a session's state, queued on the writer. */
    final class Write implements Runnable {
        private final String key;
        private final Session session;
        private final AtomicInteger state = new AtomicInteger(QUEUED);
        private final CountDownLatch done = new CountDownLatch(1);

        Write(String key, Session session) {
            this.key = key;
            this.session = session;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, WRITING)) {
                return;
            }
            try {
                SessionImage image = session.image(key);
                if (image.cache().length() == 0) {
                    store.delete(key); // nothing worth restoring
                } else {
                    store.save(image);
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "could not save the KV cache of conversation " + key + ": " + e);
            } finally {
                state.set(DONE);
                done.countDown();
                leaving.remove(key, session);
            }
        }

        boolean withdraw() {
            return state.compareAndSet(QUEUED, WITHDRAWN);
        }

        boolean done() {
            int s = state.get();
            return s == DONE || s == WITHDRAWN;
        }

        void awaitDone() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
