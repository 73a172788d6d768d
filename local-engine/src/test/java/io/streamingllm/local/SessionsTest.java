package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.local.model.ModelConfig;
import org.junit.jupiter.api.Test;

class SessionsTest {
    static final ModelConfig CONFIG = new ModelConfig("llama", 8, 16, 1, 2, 2, 4, 512, 64, 1e-5f, 10000f, false, 4,
            new float[] {1f, 1f});

    @Test
    void theLeastRecentlyUsedSessionIsDroppedBeyondTheLimit() {
        Sessions sessions = new Sessions(CONFIG, 4, 16, 2);
        Session a = sessions.sessionFor("a");
        Session b = sessions.sessionFor("b");
        assertSame(a, sessions.sessionFor("a"), "a is now the most recently used");
        sessions.sessionFor("c");
        assertNull(sessions.get("b"));
        assertSame(a, sessions.get("a"));
        assertNotSame(b, sessions.sessionFor("b"), "a dropped session starts over");
        sessions.remove("a");
        assertNull(sessions.get("a"));
    }

    @Test
    void aNullKeyOrNoRoomGivesASessionNobodyKeeps() {
        Sessions sessions = new Sessions(CONFIG, 4, 16, 2);
        assertNotSame(sessions.sessionFor(null), sessions.sessionFor(null));
        Sessions none = new Sessions(CONFIG, 4, 16, 0);
        assertNotSame(none.sessionFor("a"), none.sessionFor("a"));
        assertNull(none.get("a"));
        assertThrows(IllegalArgumentException.class, () -> new Sessions(CONFIG, 4, 16, -1));
    }

    @Test
    void theCacheNeverExceedsTheTrainedContext() {
        assertEquals(20, new Sessions(CONFIG, 4, 16, 1).sessionFor("a").cache().capacity());
        assertEquals(64, new Sessions(CONFIG, 4, 1000, 1).sessionFor("a").cache().capacity(), "recent capped");
        assertEquals(64, new Sessions(CONFIG, 100, 1000, 1).sessionFor("a").cache().capacity(), "sinks capped too");
        assertEquals(63, new Sessions(CONFIG, 100, 1000, 1).sessionFor("a").cache().startSize());
    }
}
