package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopMatcherTest {
    private final List<String> deltas = new ArrayList<>();

    @Test
    void aPossibleStartOfAStopStringIsHeldBackAndTheTextEndsBeforeTheStop() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertFalse(m.append("abc E", deltas::add));
        assertEquals(List.of("abc "), deltas, "E could start END");
        assertFalse(m.append("N", deltas::add));
        assertEquals(List.of("abc "), deltas);
        assertTrue(m.append("D!", deltas::add), "END completed across three deltas");
        assertEquals(List.of("abc "), deltas, "nothing of the stop string leaks");
        assertEquals("abc ", m.text());
        assertTrue(m.stopped());
        assertTrue(m.append("more", deltas::add));
        m.flush(deltas::add);
        assertEquals(List.of("abc "), deltas, "nothing after a stop");
    }

    @Test
    void aHeldBackTailThatIsNoStopIsReleasedByTheNextDeltaOrTheFlush() {
        StopMatcher m = new StopMatcher(List.of("END"));
        m.append("hi E", deltas::add);
        m.append("x", deltas::add);
        assertEquals(List.of("hi ", "Ex"), deltas);
        m.append(" EN", deltas::add);
        m.flush(deltas::add);
        assertEquals(List.of("hi ", "Ex", " ", "EN"), deltas);
        assertEquals("hi Ex EN", m.text());
        assertFalse(m.stopped());
    }

    @Test
    void theEarliestStopWinsAndEmptyStopsAreIgnored() {
        StopMatcher m = new StopMatcher(List.of("", "xyz", "b"));
        assertTrue(m.append("abxyz", deltas::add));
        assertEquals("a", m.text());
        assertEquals(List.of("a"), deltas);

        StopMatcher none = new StopMatcher(List.of(""));
        assertFalse(none.append("abc", deltas::add));
        assertEquals("abc", none.text());
    }

    @Test
    void aListenerFailureComesOutAsListenerFailure() {
        IllegalStateException boom = new IllegalStateException("client went away");
        StopMatcher m = new StopMatcher(List.of());
        ListenerFailure f = assertThrows(ListenerFailure.class, () -> m.append("a", d -> {
            throw boom;
        }));
        assertSame(boom, f.getCause());
    }
}
