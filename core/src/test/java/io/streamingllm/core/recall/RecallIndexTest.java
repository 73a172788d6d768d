package io.streamingllm.core.recall;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.ConversationIndex.IndexedTurn;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecallIndexTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private EventLog log() {
        EventLog log = new EventLog(dir.resolve("logs"));
        toClose.add(log);
        return log;
    }

    private RecallIndex index() {
        RecallIndex index = new RecallIndex(dir.resolve("index"));
        toClose.add(index);
        return index;
    }

    /** Logs one turn and returns its two events (appended durably, as a session does). */
    private static List<Event> turn(EventLog log, String conversation, String agent, int n, String user, String reply) {
        List<Event> events = List.of(
                new UserMessage(user, agent, n, user.split(" ").length).toEvent(conversation),
                new AssistantMessage(reply, agent, "echo", n, FinishReason.STOP, reply.split(" ").length, 1, 1, 1, 0, 0,
                        0, null, null).toEvent(conversation));
        return log.appendAll(events);
    }

    private static String filler(int n) {
        return "filler turn " + n + " talks about the weather and the river and lunch plans number " + n;
    }

    @Test
    void findsAPlantedFactAmongFillerRankedByBm25WithEventTurnRoleAndSnippet() {
        EventLog log = log();
        RecallIndex index = index();
        List<Event> fact = null;
        for (int n = 1; n <= 50; n++) {
            List<Event> events = n == 17 ? turn(log, "c1", "planner", n, "please remember that my locker code is 4471",
                    "noted: your locker code is 4471") : turn(log, "c1", "planner", n, filler(n), "ok " + n);
            index.appended(events);
            fact = n == 17 ? events : fact;
        }
        index.appended(turn(log, "c2", "researcher", 1, "the locker room was closed", "sorry to hear"));

        SearchResult r = index.search("c1", null, "locker code", 10);
        assertFalse(r.indexing());
        assertEquals(2, r.hits().size(), "only the two messages of c1 that mention it: " + r.hits());
        SearchHit best = r.hits().get(0);
        assertEquals("c1", best.conversationId());
        assertEquals(17, best.turn());
        assertTrue(List.of(fact.get(0).id(), fact.get(1).id()).contains(best.eventId()));
        assertTrue(best.snippet().contains("locker code is 4471"), best.snippet());
        assertTrue(best.score() > 0 && best.score() >= r.hits().get(1).score());
        assertEquals("planner", best.agentId());

        // across conversations, and one agent's only; stems match ("lockers" finds "locker")
        assertEquals(3, index.search(null, null, "lockers", 10).hits().size());
        List<SearchHit> researcher = index.search(null, "researcher", "locker", 10).hits();
        assertEquals(1, researcher.size());
        assertEquals("user", researcher.get(0).role());
        assertEquals("c2", researcher.get(0).conversationId());
        // Lucene's syntax: a phrase, a required and a forbidden word
        assertEquals(1, index.search("c1", null, "\"please remember\"", 10).hits().size());
        assertEquals(1, index.search("c1", null, "+locker -noted", 10).hits().size());
        assertEquals(1, index.search("c1", null, "locker", 1).hits().size(), "limit");
    }

    @Test
    void aQueryThatDoesNotParseIsABadQuery() {
        RecallIndex index = index();
        BadQueryException e = assertThrows(BadQueryException.class, () -> index.search(null, null, "locker AND (code", 10));
        assertTrue(e.getMessage().startsWith("the query does not parse"), e.getMessage());
        assertThrows(BadQueryException.class, () -> index.search(null, null, "*ocker", 10));
    }

    @Test
    void relevantTurnsAreWholeTurnsBelowTheWindowMostRelevantFirst() {
        EventLog log = log();
        RecallIndex index = index();
        for (int n = 1; n <= 30; n++) {
            String user = switch (n) {
                case 3 -> "my sister Ingrid was born on 12 March 1990";
                case 9 -> "Ingrid moved to Oslo";
                case 28 -> "Ingrid called again today";
                default -> filler(n);
            };
            index.appended(turn(log, "c", "planner", n, user, "reply " + n));
        }
        index.refreshNow(); // a recall searches what the last refresh made visible; the background one runs each second
        List<IndexedTurn> turns = index.relevantTurns("c", "when was Ingrid born?", 25, 5);
        assertEquals(List.of(3, 9), turns.stream().map(IndexedTurn::turn).toList(),
                "the turn with both words first, then the other; never turn 28 (in the window)");
        IndexedTurn t = turns.get(0);
        assertEquals("my sister Ingrid was born on 12 March 1990", t.user());
        assertEquals("reply 3", t.assistant());
        assertTrue(t.completed());
        assertEquals(9 + 2, t.tokens(), "both sides' logged tokens");
        assertEquals(List.of(), index.relevantTurns("c", "the of and", 25, 5), "stop words only: nothing to look for");
        assertEquals(List.of(5, 6, 7), index.turns("c", 5, 7).stream().map(IndexedTurn::turn).toList());
    }

    @Test
    void toolCallsAndTheirResultsAreMarkedSoTheyAreRecalledTogether() {
        EventLog log = log();
        RecallIndex index = index();
        ToolCall call = new ToolCall("call_1", "get_weather", "{\"city\":\"Bergen\"}");
        index.appended(log.appendAll(List.of(
                new UserMessage("what is the weather in Bergen", "planner", 1, 6).toEvent("c"),
                new AssistantMessage("", "planner", "m", 1, FinishReason.TOOL_CALLS, 8, 1, 1, 1, 0, 0, 0, null, null,
                        List.of(call)).toEvent("c"))));
        index.appended(log.appendAll(List.of(
                new UserMessage("", "planner", 2, 5, List.of(ChatMessage.toolResult("call_1", "get_weather",
                        "rain, 9 degrees"))).toEvent("c"),
                new AssistantMessage("It rains in Bergen.", "planner", "m", 2, FinishReason.STOP, 4, 1, 1, 1, 0, 0, 0,
                        null, null).toEvent("c"))));
        List<IndexedTurn> turns = index.turns("c", 1, 2);
        assertTrue(turns.get(0).callsTools() && turns.get(0).completed());
        assertTrue(turns.get(0).assistant().contains("[called get_weather({\"city\":\"Bergen\"})]"));
        assertTrue(turns.get(1).carriesResults());
        assertEquals("[get_weather -> rain, 9 degrees]", turns.get(1).user());
        assertEquals(2, index.search("c", null, "rain", 10).hits().size());
    }

    @Test
    void aDeletedIndexIsRebuiltFromTheLogAndAStaleOneCaughtUpWithoutDuplicates() throws Exception {
        EventLog log = log();
        try (RecallIndex first = new RecallIndex(dir.resolve("index"))) {
            for (int n = 1; n <= 5; n++) {
                first.appended(turn(log, "c", "planner", n, "alpha message " + n, "beta reply " + n));
            }
        }
        // the sidecar died before it indexed these (the index commits every few seconds and at close)
        for (int n = 6; n <= 8; n++) {
            turn(log, "c", "planner", n, "alpha message " + n, "beta reply " + n);
        }
        turn(log, "other", "planner", 1, "alpha elsewhere", "gamma");
        RecallIndex index = index();
        assertEquals(5, index.search(null, null, "alpha", 100).hits().size(), "what was indexed before");
        index.catchUp(log);
        index.awaitCaughtUp();
        assertFalse(index.indexing());
        assertEquals(9, index.search(null, null, "alpha", 100).hits().size(), "8 turns of c + 1 of other");
        assertEquals(16, index.search("c", null, "alpha OR beta", 100).hits().size(), "each message once");

        // deleted: rebuilt whole
        index.close();
        toClose.remove(index);
        deleteTree(dir.resolve("index"));
        RecallIndex rebuilt = index();
        assertEquals(0, rebuilt.search(null, null, "alpha", 100).hits().size());
        rebuilt.catchUp(log);
        rebuilt.awaitCaughtUp();
        assertEquals(9, rebuilt.search(null, null, "alpha", 100).hits().size());
    }

    @Test
    void archivedConversationsLeaveTheIndexAndOnesTheLogNoLongerHasGoAtCatchUp() throws Exception {
        EventLog log = log();
        try (RecallIndex first = new RecallIndex(dir.resolve("index"))) {
            first.appended(turn(log, "kept", "planner", 1, "zebra crossing", "ok"));
            first.appended(turn(log, "gone", "planner", 1, "zebra stripes", "ok"));
            first.appended(turn(log, "archived", "planner", 1, "zebra herd", "ok"));
            log.archive("archived", dir.resolve("archive"));
            first.removed("archived"); // as ChatService.archive does
            assertEquals(2, first.search(null, null, "zebra", 10).hits().size());
        }
        log.archive("gone", dir.resolve("archive"));
        RecallIndex index = index();
        index.catchUp(log);
        index.awaitCaughtUp();
        List<SearchHit> hits = index.search(null, null, "zebra", 10).hits();
        assertEquals(List.of("kept"), hits.stream().map(SearchHit::conversationId).toList());
    }

    @Test
    void searchesDuringACatchUpSayTheIndexIsStillIndexing() throws Exception {
        EventLog log = log();
        for (int c = 0; c < 40; c++) {
            for (int n = 1; n <= 20; n++) {
                turn(log, "c" + c, "planner", n, "alpha message " + n, "beta reply " + n);
            }
        }
        RecallIndex index = index();
        index.catchUp(log);
        SearchResult during = index.search(null, null, "alpha", 1000);
        index.awaitCaughtUp();
        SearchResult after = index.search(null, null, "alpha", 1000);
        assertFalse(after.indexing());
        assertEquals(800, after.hits().size());
        // a catch-up of 1,600 messages may or may not have finished by the first search; if not, it said so
        assertTrue(during.indexing() || during.hits().size() == 800, "a partial answer must say it is partial");
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
