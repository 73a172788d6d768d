package io.streamingllm.local;

import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The conversations whose KV caches are kept between turns: at most {@code maxSessions} in memory, the least
 * recently used leaving first, and on disk when {@link SavedSessions} has a store (saved after each turn,
 * restored when a conversation comes back). Each cache holds {@code startSize} sinks plus a recent window,
 * capped so that it never exceeds the model's trained context. Confined to the engine's worker thread.
 */
final class Sessions {
    private final ModelConfig config;
    private final int startSize;
    private final int recentSize;
    private final int maxSessions;
    private final SavedSessions saved;
    private final Map<String, Session> byKey = new LinkedHashMap<>(16, 0.75f, true);

    Sessions(ModelConfig config, int startSize, int recentSize, int maxSessions) {
        this(config, startSize, recentSize, maxSessions, SavedSessions.inMemoryOnly());
    }

    Sessions(ModelConfig config, int startSize, int recentSize, int maxSessions, SavedSessions saved) {
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be >= 0, got " + maxSessions);
        }
        this.config = config;
        this.startSize = Math.min(startSize, config.contextLength() - 1);
        this.recentSize = Math.max(1, Math.min(recentSize, config.contextLength() - this.startSize));
        this.maxSessions = maxSessions;
        this.saved = saved;
    }

    /**
     * The session of {@code key} for a turn: kept in memory, else restored from disk, else new; a null key (or
     * {@code maxSessions} 0 with nothing saved) gives a session nobody keeps: one turn over a fresh cache. Call
     * {@link #ended} when the turn is over.
     */
    Session sessionFor(String key) {
        Session s = key == null ? null : byKey.get(key);
        if (s == null && key != null) {
            s = saved.restore(key, this::newCache);
            if (s != null) {
                keep(key, s);
            }
        }
        if (s == null) {
            s = new Session(newCache());
            if (key != null) {
                keep(key, s);
            }
        }
        saved.beforeUse(s);
        return s;
    }

    /** The turn of {@code key} on {@code s} is over (whatever its outcome): its state is saved. */
    void ended(String key, Session s) {
        saved.afterTurn(key, s);
        if (key != null && byKey.get(key) != s) {
            saved.leave(key, s); // not kept in memory (maxSessions 0)
        }
    }

    private KvCache newCache() {
        return KvCache.streaming(config, startSize, recentSize);
    }

    private void keep(String key, Session s) {
        if (maxSessions == 0) {
            return;
        }
        byKey.put(key, s);
        Iterator<Map.Entry<String, Session>> lru = byKey.entrySet().iterator();
        while (byKey.size() > maxSessions) {
            Map.Entry<String, Session> oldest = lru.next();
            lru.remove();
            saved.leave(oldest.getKey(), oldest.getValue());
        }
    }

    /** The session kept in memory for {@code key}, or null. */
    Session get(String key) {
        return byKey.get(key);
    }

    /** Forgets {@code key}'s session, in memory and on disk (the conversation was archived). */
    void remove(String key) {
        Session s = byKey.remove(key);
        saved.forget(key, s);
    }

    SavedSessions saved() {
        return saved;
    }

    /** Waits for the saves under way; the worker must have stopped. */
    void close(long timeoutSeconds) {
        saved.close(timeoutSeconds);
    }
}
