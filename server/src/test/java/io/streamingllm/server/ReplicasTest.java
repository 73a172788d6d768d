package io.streamingllm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.store.postgres.TestDatabase;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several sidecars on one PostgreSQL database (issue 17): any replica serves any conversation with the prompts one
 * replica would send, one turn at a time per conversation across replicas, and a replica killed mid-turn loses no
 * acknowledged turn and frees its conversations for the others. Each test has a database of its own.
 */
class ReplicasTest {
    private static final String TURN = "{\"agent_id\":\"planner\",\"user_message\":\"%s\"}";
    static final List<TestDatabase> databases = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void checkPostgres() {
        try (TestDatabase probe = TestDatabase.create()) {
            // answers: each test makes its own
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void dropDatabases() throws Exception {
        for (TestDatabase db : databases) {
            db.close();
        }
    }

    static TestDatabase database() {
        TestDatabase db = TestDatabase.create();
        databases.add(db);
        return db;
    }

    /** Small window and summary, so that turns are evicted and summarised within a few turns. */
    static Map<String, String> env(TestDatabase db) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.RECENT_SIZE, "48");
        env.put(SidecarConfig.SUMMARY_SIZE, "24");
        if (db != null) {
            env.put(SidecarConfig.DATABASE_URL, db.url());
        }
        return env;
    }

    static String turn(String text) {
        return String.format(TURN, text);
    }

    /** The messages of every chat call the fake saw, in order. */
    static List<JsonArray> prompts(FakeOllama fake) {
        return fake.exchanges("/api/chat").stream().map(e -> e.json().getJsonArray("messages")).toList();
    }

    @Test
    void twoReplicasAlternatingTurnsSendThePromptsOneReplicaSends() throws Exception {
        TestDatabase db = database();
        List<String> conversations = List.of("alt-1", "alt-2", "alt-3");
        List<JsonArray> twoReplicas;
        // no prompt_eval_count: each process calibrates its chars-per-token estimate from the counts its own turns
        // report, which would move the window's edges apart for reasons of the engine, not of the store
        try (FakeOllama fake = FakeOllama.start().reply(FakeOllama.Reply.echo().promptEvalCount(0));
             TestSidecar a = TestSidecar.ollama(dir.resolve("a"), fake, "llama3.2:latest", env(db));
             TestSidecar b = TestSidecar.ollama(dir.resolve("b"), fake, "llama3.2:latest", env(db))) {
            run(List.of(a, b), conversations);
            twoReplicas = prompts(fake);
            // the listing and a conversation's state are the same from either replica
            assertEquals(TestSidecar.json(a.get("/conversations/alt-2").body()),
                    TestSidecar.json(b.get("/conversations/alt-2").body()));
            assertEquals(a.get("/conversations").body(), b.get("/conversations").body());
            // the event routes page the same store from either replica
            assertEquals(200, b.get("/events?limit=7").statusCode());
            assertEquals(a.get("/events?limit=7").body(), b.get("/events?limit=7").body());
            assertEquals(a.get("/conversations/alt-3/events?limit=5").body(),
                    b.get("/conversations/alt-3/events?limit=5").body());
        }
        List<JsonArray> oneReplica;
        try (FakeOllama fake = FakeOllama.start().reply(FakeOllama.Reply.echo().promptEvalCount(0));
             TestSidecar one = TestSidecar.ollama(dir.resolve("one"), fake, "llama3.2:latest", env(null))) {
            run(List.of(one), conversations);
            oneReplica = prompts(fake);
        }
        assertEquals(conversations.size() * 10, oneReplica.size());
        assertTrue(oneReplica.stream().anyMatch(m -> m.toString().contains("summary")
                        || m.size() < 3), "the window never evicted: the test would not cover summaries");
        assertEquals(oneReplica.size(), twoReplicas.size());
        for (int i = 0; i < oneReplica.size(); i++) {
            assertEquals(oneReplica.get(i).toString(), twoReplicas.get(i).toString(), "prompt " + i);
        }
    }

    @Test
    void anAgentPutOrDeletedOnOneReplicaIsWhatEveryReplicaServes() {
        TestDatabase db = database();
        try (TestSidecar a = TestSidecar.echo(dir.resolve("a"), env(db));
             TestSidecar b = TestSidecar.echo(dir.resolve("b"), env(db))) {
            assertEquals(200, a.put("/agents/reviewer", "{\"name\":\"Reviewer\",\"system_prompt\":\"You review.\","
                    + "\"markdown_context\":\"# Reviewer\"}").statusCode());
            HttpResponse<String> seen = b.get("/agents/reviewer");
            assertEquals(200, seen.statusCode(), seen.body());
            assertEquals("You review.", TestSidecar.json(seen.body()).getString("system_prompt"));
            assertEquals(200, b.post("/conversations/rev-1/messages",
                    "{\"agent_id\":\"reviewer\",\"user_message\":\"look\"}").statusCode());
            assertEquals(204, b.delete("/agents/reviewer").statusCode());
            assertEquals(404, a.get("/agents/reviewer").statusCode());
            HttpResponse<String> refused = a.post("/conversations/rev-2/messages",
                    "{\"agent_id\":\"reviewer\",\"user_message\":\"look\"}");
            assertEquals(404, refused.statusCode(), refused.body());
        }
    }

    @Test
    void inLlmModeAnotherReplicaWaitsForTheSummaryRewriteAndPromptsWithIt() throws Exception {
        TestDatabase db = database();
        Map<String, String> env = env(db);
        env.put(SidecarConfig.SUMMARY_MODE, "llm");
        CountDownLatch rewriteStarted = new CountDownLatch(1);
        CountDownLatch finishRewrite = new CountDownLatch(1);
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar a = TestSidecar.ollama(dir.resolve("a"), fake, "llama3.2:latest", env);
             TestSidecar b = TestSidecar.ollama(dir.resolve("b"), fake, "llama3.2:latest", env)) {
            fake.reply(exchange -> {
                if (isRewrite(exchange.json().getJsonArray("messages"))) {
                    rewriteStarted.countDown();
                    return FakeOllama.Reply.tokens("REWRITTEN", " SUMMARY").promptEvalCount(0).gate(i -> {
                        if (i == 0) {
                            finishRewrite.await();
                        }
                    });
                }
                return FakeOllama.Reply.echo().promptEvalCount(0);
            });
            // the third turn evicts (window 48 tokens): its rewrite is held at the fake
            for (int i = 0; i < 3; i++) {
                assertEquals(200, a.post("/conversations/llm-1/messages",
                        turn("turn " + i + " says something worth keeping about topic " + i)).statusCode());
            }
            assertTrue(rewriteStarted.await(30, TimeUnit.SECONDS), "no summary rewrite");
            HttpResponse<String> during = b.post("/conversations/llm-1/messages", turn("while rewriting"));
            assertEquals(409, during.statusCode(), during.body());
            assertEquals("conversation_busy", TestSidecar.json(during.body()).getString("error"));

            finishRewrite.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            HttpResponse<String> after;
            while ((after = b.post("/conversations/llm-1/messages", turn("after the rewrite"))).statusCode() == 409) {
                assertTrue(System.nanoTime() < deadline, "the conversation stayed busy after the rewrite");
                Thread.onSpinWait();
            }
            assertEquals(200, after.statusCode(), after.body());
            JsonArray prompt = prompts(fake).stream().filter(m -> !isRewrite(m)).toList().getLast();
            assertTrue(prompt.getJsonObject(0).getString("content").contains("REWRITTEN SUMMARY"), prompt.toString());
        }
    }

    private static boolean isRewrite(JsonArray messages) {
        return messages.getJsonObject(0).getString("content").startsWith("You maintain the running summary");
    }

    /** Ten turns of each conversation, the replicas taking turns: turn i goes to replica i mod n. */
    private static void run(List<TestSidecar> replicas, List<String> conversations) {
        for (int i = 0; i < 10; i++) {
            for (String c : conversations) {
                TestSidecar s = replicas.get(i % replicas.size());
                HttpResponse<String> r = s.post("/conversations/" + c + "/messages",
                        turn("turn " + i + " of " + c + " says something worth keeping about topic " + (i * 7 % 5)));
                assertEquals(200, r.statusCode(), r.body());
            }
        }
    }

    @Test
    void concurrentTurnsOnOneConversationAcrossReplicasLetExactlyOneProceed() throws Exception {
        TestDatabase db = database();
        CountDownLatch release = new CountDownLatch(1);
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar a = TestSidecar.ollama(dir.resolve("a"), fake, "llama3.2:latest", env(db));
             TestSidecar b = TestSidecar.ollama(dir.resolve("b"), fake, "llama3.2:latest", env(db))) {
            fake.reply(FakeOllama.Reply.tokens("held", " reply").gate(i -> {
                if (i == 0) {
                    release.await();
                }
            }));
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                TestSidecar s = i % 2 == 0 ? a : b;
                String text = "racer " + i;
                calls.add(CompletableFuture.supplyAsync(() -> s.post("/conversations/race/messages", turn(text))));
            }
            // the losers answer at once; the winner waits at the gate
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (calls.stream().filter(CompletableFuture::isDone).count() < 7) {
                assertTrue(System.nanoTime() < deadline, "the losing turns did not answer");
                Thread.onSpinWait();
            }
            List<HttpResponse<String>> lost = calls.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join)
                    .toList();
            for (HttpResponse<String> r : lost) {
                assertEquals(409, r.statusCode(), r.body());
                assertEquals("conversation_busy", TestSidecar.json(r.body()).getString("error"));
            }
            assertEquals(409, b.delete("/conversations/race").statusCode());
            assertEquals(409, a.delete("/conversations/race").statusCode());
            release.countDown();
            HttpResponse<String> won = calls.stream().filter(f -> !lost.contains(f.getNow(null))).findFirst()
                    .orElseThrow().get(30, TimeUnit.SECONDS);
            assertEquals(200, won.statusCode(), won.body());
            assertEquals(1, fake.exchanges("/api/chat").size(), "one turn reached the engine");

            // the conversation is free again, on either replica, and the next turn sees the one before
            fake.reply(FakeOllama.Reply.echo());
            assertEquals(200, b.post("/conversations/race/messages", turn("after the race")).statusCode());
            JsonArray next = prompts(fake).getLast();
            assertTrue(next.toString().contains("held reply"), next.toString());
            assertEquals(200, a.post("/conversations/race/messages", turn("and again")).statusCode());
            assertTrue(prompts(fake).getLast().toString().contains("after the race"));
        }
    }

    @Test
    void aReplicaKilledMidTurnLosesNoAcknowledgedTurnAndTheOtherContinues() throws Exception {
        TestDatabase db = database();
        Map<String, String> env = env(db);
        env.put(SidecarConfig.ECHO_DELAY_MS, "15");
        // trust authentication ignores it; the replica must not print it anywhere either
        env.put(SidecarConfig.DATABASE_PASSWORD, "never-print-this-secret");
        int sessions = 32;
        Map<String, List<String>> acked = new ConcurrentHashMap<>();
        AtomicInteger sessionsWithTwoTurns = new AtomicInteger();
        CountDownLatch enough = new CountDownLatch(1);
        try (ChildSidecar child = ChildSidecar.start(java.nio.file.Files.createDirectories(dir.resolve("child")), 4096,
                env);
             TestSidecar other = TestSidecar.echo(dir.resolve("other"), env)) {
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                String conversation = "kill-" + i;
                acked.put(conversation, new ArrayList<>());
                clients.add(Thread.ofVirtual().start(() -> {
                    for (int t = 0; ; t++) {
                        String text = "session " + conversation + " turn " + t + " streams a few words";
                        try {
                            if (!streamTurn(other, child, conversation, text)) {
                                return;
                            }
                        } catch (Exception killed) {
                            return;
                        }
                        acked.get(conversation).add(text);
                        if (t == 1 && sessionsWithTwoTurns.incrementAndGet() == sessions) {
                            enough.countDown();
                        }
                    }
                }));
            }
            assertTrue(enough.await(120, TimeUnit.SECONDS), "the sessions did not get going: " + child.output());
            assertTrue(child.output().stream().noneMatch(l -> l.contains("never-print-this-secret")), "password logged");
            child.process.destroyForcibly(); // SIGKILL: no shutdown hook, no orderly close
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS));
            for (Thread t : clients) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }

            // every turn whose reply was acknowledged (its done line) is in the store, reply and all
            for (var e : acked.entrySet()) {
                List<JsonObject> events = events(db, e.getKey());
                for (String text : e.getValue()) {
                    int user = indexOf(events, "USER_MESSAGE", text);
                    assertTrue(user >= 0, "acknowledged turn not in the store: " + text);
                    assertTrue(events.subList(user + 1, events.size()).stream().anyMatch(ev ->
                            ev.getString("type").equals("ASSISTANT_MESSAGE")
                                    && ev.getJsonObject("payload").getInt("turn")
                                    == events.get(user).getJsonObject("payload").getInt("turn")),
                            "acknowledged reply not in the store: " + text);
                }
            }
            // the other replica takes every conversation on: none stays locked by the dead one
            for (String conversation : acked.keySet()) {
                int logged = (int) events(db, conversation).stream()
                        .filter(ev -> ev.getString("type").equals("USER_MESSAGE")).count();
                HttpResponse<String> r = other.post("/conversations/" + conversation + "/messages",
                        turn("carried on"));
                assertEquals(200, r.statusCode(), r.body());
                List<JsonObject> after = events(db, conversation);
                int at = indexOf(after, "USER_MESSAGE", "carried on");
                assertEquals(logged + 1, after.get(at).getJsonObject("payload").getInt("turn"), conversation);
            }
        }
    }

    /** One streamed turn on the child; false when the child is gone (the session ends). */
    private static boolean streamTurn(TestSidecar other, ChildSidecar child, String conversation, String text)
            throws Exception {
        HttpResponse<InputStream> r = other.http.send(HttpRequest.newBuilder(child.base.resolve(
                        "/conversations/" + conversation + "/messages"))
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(turn(text))).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new AssertionError("turn refused: " + r.statusCode() + " " + new String(r.body().readAllBytes(),
                    StandardCharsets.UTF_8));
        }
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (!line.isBlank() && TestSidecar.json(line).getString("type", "").equals("done")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(List<JsonObject> events, String type, String content) {
        for (int i = 0; i < events.size(); i++) {
            JsonObject e = events.get(i);
            if (e.getString("type").equals(type) && content.equals(e.getJsonObject("payload").getString("content", null))) {
                return i;
            }
        }
        return -1;
    }

    /** A conversation's events as the store holds them, read behind the sidecars' backs. */
    private static List<JsonObject> events(TestDatabase db, String conversation) throws Exception {
        List<JsonObject> out = new ArrayList<>();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT line FROM events WHERE conversation_id = ? ORDER BY seq")) {
            ps.setString(1, conversation);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(jakarta.json.Json.createReader(new StringReader(rs.getString(1))).readObject());
                }
            }
        }
        return out;
    }
}
