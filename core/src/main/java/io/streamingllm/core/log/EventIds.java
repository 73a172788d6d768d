package io.streamingllm.core.log;

import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * UUIDv7-style event ids: 48 bits of Unix milliseconds, then a per-millisecond sequence, then random bits.
 * They sort by creation time as strings, which keeps logs and listings readable. Safe from any thread.
 */
final class EventIds {
    private static final AtomicLong LAST = new AtomicLong();

    private EventIds() {
    }

    static String next() {
        long now = System.currentTimeMillis();
        // high 48 bits: millis; low 12 bits: sequence within the millisecond (borrowing the next ms on overflow)
        long stamp = LAST.updateAndGet(prev -> {
            long candidate = now << 12;
            return candidate > prev ? candidate : prev + 1;
        });
        long millis = stamp >>> 12;
        long seq = stamp & 0xFFF;
        long msb = (millis << 16) | 0x7000L | seq;
        long lsb = (ThreadLocalRandom.current().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    /** The Unix milliseconds an id made here carries (a version 7 UUID); empty for any other id. */
    static OptionalLong millis(String id) {
        if (id.length() != 36) {
            return OptionalLong.empty();
        }
        try {
            UUID u = UUID.fromString(id);
            return u.version() == 7 ? OptionalLong.of(u.getMostSignificantBits() >>> 16) : OptionalLong.empty();
        } catch (IllegalArgumentException notAUuid) {
            return OptionalLong.empty();
        }
    }

    /** The smallest id this class makes at {@code millis}: every id made at or after it sorts at or after it. */
    static String floor(long millis) {
        return new UUID((millis << 16) | 0x7000L, 0x8000000000000000L).toString();
    }
}
