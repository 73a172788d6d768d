package io.streamingllm.core.engine.pool;

import io.streamingllm.core.engine.EngineHealth;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One upstream's up/down state, driven by hand: no engine is called. */
class UpstreamTest {
    private static final int ERRORS_BEFORE_DOWN = 3;
    private static final long BACKOFF = 1_000;
    private static final long MAX_BACKOFF = 8_000;

    private final Upstream upstream = new Upstream("http://127.0.0.1:1", null);

    private boolean error(long now) {
        return upstream.failed("HTTP 500", false, ERRORS_BEFORE_DOWN, now, BACKOFF);
    }

    @Test
    void threeErrorsInARowTakeItOut() {
        assertFalse(error(0));
        assertFalse(error(1));
        assertTrue(error(2));
        assertFalse(upstream.up());
    }

    @Test
    void aSucceededCallEndsTheRun() {
        error(0);
        error(1);
        upstream.succeeded();
        assertFalse(error(2));
        assertFalse(error(3));
        assertTrue(upstream.up());
    }

    @Test
    void aPassingHealthProbeWhileUpDoesNotEndTheRun() {
        error(0);
        error(1);
        // /api/tags answers while /api/chat keeps failing: the upstream is still broken for turns
        assertEquals(0, upstream.probed(EngineHealth.ready("ok"), 2, BACKOFF, MAX_BACKOFF));
        assertTrue(error(3), "the third chat error in a row takes it out, probe or not");
        assertFalse(upstream.up());
    }

    @Test
    void aSevereFailureTakesItOutAtOnce() {
        assertTrue(upstream.failed("connection refused", true, ERRORS_BEFORE_DOWN, 0, BACKOFF));
        assertFalse(upstream.up());
    }

    @Test
    void aDownUpstreamIsProbedWithDoublingBackoffAndComesBackWithAFreshRun() {
        error(0);
        error(0);
        error(0);
        assertFalse(upstream.probeDue(BACKOFF - 1, 10_000));
        assertTrue(upstream.probeDue(BACKOFF, 10_000));
        EngineHealth refused = new EngineHealth(EngineHealth.Status.ERROR, "refused");
        assertEquals(0, upstream.probed(refused, BACKOFF, BACKOFF, MAX_BACKOFF));
        assertFalse(upstream.probeDue(BACKOFF + 2 * BACKOFF - 1, 10_000), "the backoff doubled");
        assertTrue(upstream.probeDue(BACKOFF + 2 * BACKOFF, 10_000));
        assertEquals(1, upstream.probed(EngineHealth.ready("ok"), 3 * BACKOFF, BACKOFF, MAX_BACKOFF));
        assertTrue(upstream.up());
        assertFalse(error(4), "back up, the count starts again");
        assertFalse(error(5));
        assertTrue(error(6));
    }
}
