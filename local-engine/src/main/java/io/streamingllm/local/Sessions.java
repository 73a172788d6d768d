package io.streamingllm.local;

import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The conversations whose KV caches are kept between turns: at most {@code maxSessions}, the least
 * recently used dropped first. Each cache holds {@code startSize} sinks plus a recent window, capped so
 * that it never exceeds the model's trained context. Confined to the engine's worker thread.
 */
final class Sessions {
    private final ModelConfig config;
    private final int startSize;
    private final int recentSize;
    private final int maxSessions;
    private final Map<String, Session> byKey = new LinkedHashMap<>(16, 0.75f, true);

    Sessions(ModelConfig config, int startSize, int recentSize, int maxSessions) {
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be >= 0, got " + maxSessions);
        }
        this.config = config;
        this.startSize = Math.min(startSize, config.contextLength() - 1);
        this.recentSize = Math.max(1, Math.min(recentSize, config.contextLength() - this.startSize));
        this.maxSessions = maxSessions;
    }

    /**
     * The session kept for {@code key}, created if new; a null key (or {@code maxSessions} 0) gives a
     * session nobody keeps: one turn over a fresh cache.
     */
    Session sessionFor(String key) {
        Session s = key == null ? null : byKey.get(key);
        if (s == null) {
            s = new Session(KvCache.streaming(config, startSize, recentSize));
            if (key != null && maxSessions > 0) {
                byKey.put(key, s);
                while (byKey.size() > maxSessions) {
                    byKey.remove(byKey.keySet().iterator().next());
                }
            }
        }
        return s;
    }

    /** The session kept for {@code key}, or null. */
    Session get(String key) {
        return byKey.get(key);
    }

    void remove(String key) {
        byKey.remove(key);
    }
}
