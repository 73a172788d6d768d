package io.streamingllm.core.engine.pool;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Several upstreams of one kind as one engine. A turn goes to the first upstream, in its key's rendezvous order,
 * that is up and below the load bound ({@link PoolSettings#loadFactor}); the key is the conversation id, or for a
 * call without one a hash of its stable prompt prefix (the system messages), so one agent's calls share a cache.
 * Failures that are the upstream's fault take it out (see {@link Upstream#failed}); probes bring it back.
 *
 * <p>Thread-safe. Placement takes one short lock so concurrent turns see each other's load.
 */
public final class UpstreamPool implements ModelEngine {
    /** Conversations whose last upstream is remembered, to report moves; the least recently placed is forgotten. */
    private static final int REMEMBERED_KEYS = 100_000;

    private final List<Upstream> upstreams;
    private final PoolSettings settings;
    private final PoolListener listener;
    private final Object placement = new Object();
    private final Map<String, String> lastUpstream = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED_KEYS;
        }
    };
    private final ScheduledExecutorService prober;

    /** {@code members}: upstream name (its URL) → its engine, at least two. */
    public UpstreamPool(Map<String, ModelEngine> members, PoolSettings settings, PoolListener listener) {
        if (members.size() < 2) {
            throw new IllegalArgumentException("a pool needs at least two upstreams, got " + members.keySet());
        }
        List<Upstream> list = new ArrayList<>();
        members.forEach((name, engine) -> list.add(new Upstream(name, engine)));
        this.upstreams = List.copyOf(list);
        this.settings = settings;
        this.listener = listener;
        this.prober = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("upstream-probe")
                .factory());
        long tick = Math.max(10, Math.min(settings.backoffBase().toMillis(), settings.upProbeInterval().toMillis()) / 4);
        prober.scheduleWithFixedDelay(this::probeDue, tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * The engine for {@code urls}: the one {@code create} makes for a single URL (exactly as without pooling),
     * a pool with default settings that logs its moves for several.
     */
    public static ModelEngine of(List<URI> urls, Function<URI, ModelEngine> create) {
        if (urls.size() == 1) {
            return create.apply(urls.getFirst());
        }
        Map<String, ModelEngine> members = new LinkedHashMap<>();
        try {
            for (URI url : urls) {
                members.put(url.toString(), create.apply(url));
            }
        } catch (RuntimeException e) {
            members.values().forEach(ModelEngine::close);
            throw e;
        }
        return new UpstreamPool(members, PoolSettings.DEFAULTS, PoolListener.logging());
    }

    /**
     * Kinds that say the upstream, not the request, failed: another upstream may well serve the turn. A token
     * timeout counts: an upstream that stays silent (stalled, or a connection it closed that the client did not
     * notice) should not keep its conversations.
     */
    static boolean upstreamsFault(EngineException.Kind kind) {
        return kind == EngineException.Kind.UNREACHABLE || kind == EngineException.Kind.UPSTREAM_ERROR
                || kind == EngineException.Kind.DROPPED || kind == EngineException.Kind.TIMEOUT;
    }

    /** The placement key of a call without a conversation: its leading system messages, else its first message. */
    static String prefixKey(List<ChatMessage> messages) {
        StringBuilder sink = new StringBuilder();
        for (ChatMessage m : messages) {
            if (m.role() != ChatMessage.Role.SYSTEM) {
                break;
            }
            sink.append(m.content()).append('\n');
        }
        if (sink.isEmpty() && !messages.isEmpty()) {
            sink.append(messages.getFirst().content());
        }
        return "prefix:" + Long.toHexString(Rendezvous.nameHash(sink.toString()));
    }

    /** Every upstream's state, in configuration order. */
    public List<UpstreamStatus> upstreams() {
        return upstreams.stream().map(Upstream::status).toList();
    }

    /** The first upstream in configuration order that is up (the first when none is), for calls any one answers. */
    public ModelEngine firstUp() {
        return upstreams.stream().filter(Upstream::up).findFirst().orElse(upstreams.getFirst()).engine();
    }

    PoolListener listener() {
        return listener;
    }

    @Override
    public String engineName() {
        return upstreams.getFirst().engine().engineName();
    }

    @Override
    public String model() {
        return upstreams.getFirst().engine().model();
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        return start(prefixKey(messages), null, messages, options, listener);
    }

    @Override
    public Generation generate(String sessionKey, List<ChatMessage> messages, GenerationOptions options,
                               TokenListener listener) {
        return sessionKey == null ? generate(messages, options, listener)
                : start(sessionKey, sessionKey, messages, options, listener);
    }

    private Generation start(String key, String sessionKey, List<ChatMessage> messages, GenerationOptions options,
                             TokenListener tokens) {
        PoolGeneration g = new PoolGeneration(this, key, sessionKey, messages, options, tokens);
        g.start(place(key, Set.of()));
        return g;
    }

    /**
     * The upstream for {@code key}, counted as running one more stream, or null when every upstream was tried:
     * the first in the key's order that is up, not in {@code tried} and below the load bound; when every untried
     * one is down, the first untried (it may be back, and failing there is no worse than failing here).
     */
    Upstream place(String key, Set<Upstream> tried) {
        List<Upstream> order = Rendezvous.order(key, upstreams);
        Upstream chosen = null;
        String previous;
        String why;
        synchronized (placement) {
            int upCount = 0;
            int active = 0;
            for (Upstream u : upstreams) {
                if (u.up()) {
                    upCount++;
                    active += u.active();
                }
            }
            long bound = upCount == 0 ? 0 : (long) Math.ceil(settings.loadFactor() * (active + 1) / upCount);
            Upstream firstUp = null;
            for (Upstream u : order) {
                if (tried.contains(u) || !u.up()) {
                    continue;
                }
                if (firstUp == null) {
                    firstUp = u;
                }
                if (u.active() < bound) {
                    chosen = u;
                    break;
                }
            }
            if (chosen == null) {
                chosen = firstUp;
            }
            if (chosen == null) {
                chosen = order.stream().filter(u -> !tried.contains(u)).findFirst().orElse(null);
            }
            if (chosen == null) {
                return null;
            }
            chosen.streamStarted();
            previous = lastUpstream.put(key, chosen.name());
            if (previous == null || previous.equals(chosen.name())) {
                return chosen;
            }
            why = moveReason(previous, order, chosen, tried);
        }
        listener.moved(key, previous, chosen.name(), why);
        return chosen;
    }

    private String moveReason(String previous, List<Upstream> order, Upstream chosen, Set<Upstream> tried) {
        Upstream before = upstreams.stream().filter(u -> u.name().equals(previous)).findFirst().orElse(null);
        String reason;
        if (before == null) {
            reason = "its upstream left the pool";
        } else if (tried.contains(before)) {
            reason = "its upstream failed before the first token";
        } else if (!before.up()) {
            reason = "its upstream is down";
        } else if (order.getFirst() != chosen) {
            reason = "its upstream is above the load bound";
        } else {
            reason = "back to its first choice (it has room again, came back or joined)";
        }
        return reason;
    }

    /** A call on {@code upstream} failed for a reason that is its fault. */
    void reportFailure(Upstream upstream, EngineException e) {
        boolean severe = e.kind() != EngineException.Kind.UPSTREAM_ERROR;
        if (upstream.failed(e.getMessage(), severe, settings.errorsBeforeDown(), System.nanoTime(),
                settings.backoffBase().toNanos())) {
            listener.down(upstream.name(), e.getMessage());
        }
    }

    /** Probes the upstreams whose probe is due; runs on the probe thread. */
    void probeDue() {
        long now = System.nanoTime();
        for (Upstream u : upstreams) {
            if (u.probeDue(now, settings.upProbeInterval().toNanos())) {
                apply(u, probe(u));
            }
        }
    }

    private static EngineHealth probe(Upstream u) {
        try {
            return u.engine().health();
        } catch (RuntimeException e) {
            return new EngineHealth(EngineHealth.Status.ERROR, "probe of " + u.name() + " failed: " + e.getMessage());
        }
    }

    private void apply(Upstream u, EngineHealth h) {
        int change = u.probed(h, System.nanoTime(), settings.backoffBase().toNanos(), settings.backoffMax().toNanos());
        if (change > 0) {
            listener.up(u.name());
        } else if (change < 0) {
            listener.down(u.name(), h.message());
        }
    }

    /**
     * Probes every upstream now, at once: ready while at least one is. Not ready, the first upstream's status with
     * every upstream's message.
     */
    @Override
    public EngineHealth health() {
        List<Future<EngineHealth>> probes = new ArrayList<>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Upstream u : upstreams) {
                probes.add(threads.submit(() -> probe(u)));
            }
        }
        int ready = 0;
        StringBuilder details = new StringBuilder();
        EngineHealth first = null;
        for (int i = 0; i < upstreams.size(); i++) {
            EngineHealth h = probes.get(i).resultNow();
            apply(upstreams.get(i), h);
            first = first == null ? h : first;
            if (h.ready()) {
                ready++;
            } else {
                details.append("; ").append(h.message());
            }
        }
        String summary = ready + " of " + upstreams.size() + " upstreams ready" + details;
        return ready > 0 ? EngineHealth.ready(summary) : new EngineHealth(first.status(), summary);
    }

    @Override
    public void requireSupported(GenerationOptions options) {
        upstreams.getFirst().engine().requireSupported(options);
    }

    @Override
    public void endSession(String sessionKey) {
        synchronized (placement) {
            lastUpstream.remove(sessionKey);
        }
        upstreams.forEach(u -> u.engine().endSession(sessionKey));
    }

    @Override
    public List<ModelInfo> models() {
        return onAnyUp(ModelEngine::models);
    }

    @Override
    public Embeddings embed(String model, List<String> inputs) {
        return onAnyUp(engine -> engine.embed(model, inputs));
    }

    /** Runs a blocking call on the upstreams that are up, in configuration order, until one answers. */
    private <T> T onAnyUp(Function<ModelEngine, T> call) {
        EngineException last = null;
        List<Upstream> candidates = upstreams.stream().filter(Upstream::up).toList();
        for (Upstream u : candidates.isEmpty() ? upstreams : candidates) {
            try {
                return call.apply(u.engine());
            } catch (EngineException e) {
                if (!upstreamsFault(e.kind())) {
                    throw e;
                }
                reportFailure(u, e);
                last = e;
            }
        }
        throw last;
    }

    @Override
    public Optional<TokenCounter> exactTokenCounter() {
        return upstreams.getFirst().engine().exactTokenCounter();
    }

    @Override
    public void close() {
        prober.shutdownNow();
        upstreams.forEach(u -> u.engine().close());
    }
}
