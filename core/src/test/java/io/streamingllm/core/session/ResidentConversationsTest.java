package io.streamingllm.core.session;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResidentConversationsTest {
    @TempDir
    Path dir;

    private EventLog log;
    private ResidentConversations residency;

    @BeforeEach
    void start() {
        SidecarConfig config = SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "echo",
                SidecarConfig.DATA_DIR, dir.resolve("data").toString()));
        log = new EventLog(config.logDir());
        SummaryStore summaries = new SummaryStore(config.summaryDir());
        EchoEngine engine = new EchoEngine(0);
        TokenEstimator tokens = new TokenEstimator(engine.exactTokenCounter().orElseThrow());
        ConversationLoader loader = new ConversationLoader(log, summaries,
                new RollingSummary(config, engine, log, summaries, tokens));
        residency = new ResidentConversations(loader, 2);
    }

    @AfterEach
    void stop() {
        log.close();
    }

    /** Holds and lets go, as a turn does; the conversation gets a log so it can come back. */
    private ConversationState use(String id) {
        ConversationState c = residency.acquire(id, "planner", true);
        log.append(new UserMessage("hello", "planner", c.turns + 1, 1).toEvent(id));
        residency.release(c);
        return c;
    }

    @Test
    void oneTurnAtATimeAndOnlyForItsAgent() {
        ConversationState c = residency.acquire("a", "planner", true);
        assertEquals(SessionException.Kind.BUSY,
                assertThrows(SessionException.class, () -> residency.acquire("a", "planner", true)).kind());
        residency.release(c);
        assertEquals(SessionException.Kind.AGENT_MISMATCH,
                assertThrows(SessionException.class, () -> residency.acquire("a", "other", true)).kind());
        assertSame(c, residency.acquire("a", "other", false), "a relayed call takes the conversation as it is");
    }

    @Test
    void theLeastRecentlyUsedIdleConversationLeavesAndComesBackFromTheLog() {
        use("a");
        use("b");
        use("c");
        assertEquals(2, residency.size());
        assertNull(residency.ifResident("a"), "a was used least recently");
        ConversationState back = residency.find("a");
        assertNotNull(back);
        assertEquals(1, back.turns, "loaded from its log");
        assertNull(residency.ifResident("b"), "and b made room for it");
        assertNull(residency.find("never"), "no log, no conversation");
    }

    @Test
    void aConversationUsedAgainIsNoLongerTheLeastRecentlyUsed() {
        use("a");
        use("b");
        use("a");
        use("c");
        assertNotNull(residency.ifResident("a"), "a was used after b");
        assertNull(residency.ifResident("b"));
        use("d");
        assertNull(residency.ifResident("a"), "now a is the oldest use");
        assertNotNull(residency.ifResident("c"));
        assertNotNull(residency.ifResident("d"));
    }

    @Test
    void aConversationMidTurnOrAwaitingItsSummaryRewriteStaysInMemory() {
        ConversationState held = residency.acquire("held", "planner", true);
        ConversationState rewriting = use("rewriting");
        CompletableFuture<Void> rewrite = new CompletableFuture<>();
        rewriting.pendingSummary = rewrite;
        use("x");
        use("y");
        assertSame(held, residency.ifResident("held"));
        assertSame(rewriting, residency.ifResident("rewriting"));
        rewrite.complete(null);
        use("z");
        assertNull(residency.ifResident("rewriting"), "once the rewrite is done it may leave");
        residency.release(held);
    }

    @Test
    void removingForTheArchiveWaitsForNoTurnAndTheLeftStateIsNeverHeldAgain() {
        ConversationState c = residency.acquire("a", "planner", true);
        assertEquals(SessionException.Kind.BUSY, assertThrows(SessionException.class, () -> residency.remove("a")).kind());
        residency.release(c);
        use("a");
        assertSame(c, residency.remove("a"));
        assertTrue(c.busy.get(), "whoever still holds the old state cannot start a turn on it");
        assertNull(residency.ifResident("a"));
        assertNotSame(c, residency.acquire("a", "planner", true), "the next turn loads afresh");
        assertNull(residency.remove("unknown"));
    }
}
