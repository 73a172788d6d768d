package io.streamingllm.core.engine.pool;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Highest-random-weight hashing: every (key, upstream) pair gets a pseudo-random score and a key's order is its
 * upstreams by falling score. Adding an upstream moves only the keys it now wins (about 1/n of them); removing one
 * moves only its own keys, each to its next choice.
 */
final class Rendezvous {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Rendezvous() {
    }

    /** {@code upstreams} ordered by their score for {@code key}, best first. */
    static List<Upstream> order(String key, List<Upstream> upstreams) {
        long keyHash = fnv(FNV_OFFSET, key);
        List<Upstream> sorted = new ArrayList<>(upstreams);
        sorted.sort(Comparator.comparingLong((Upstream u) -> score(keyHash, u.nameHash())).reversed()
                .thenComparing(Upstream::name));
        return sorted;
    }

    static long nameHash(String name) {
        return fnv(FNV_OFFSET ^ 0x9e3779b97f4a7c15L, name);
    }

    /** Unsigned scores compared as signed longs would still be a fair total order; the mix spreads FNV's low bits. */
    private static long score(long keyHash, long nameHash) {
        return mix(keyHash ^ Long.rotateLeft(nameHash, 31) ^ nameHash * FNV_PRIME);
    }

    private static long fnv(long seed, String s) {
        long h = seed;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
