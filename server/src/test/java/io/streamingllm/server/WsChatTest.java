package io.streamingllm.server;

import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WsChatTest {
    @TempDir
    Path dir;

    @Test
    void severalTurnsOnOneSocketWithBothOptionSpellings() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); WsClient ws = WsClient.connect(s.base, "")) {
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"one two three four\"}");
            WsClient.Reply first = ws.readTurn();
            assertEquals("one two three four", first.text());
            assertEquals(4, first.tokens());
            String conversation = first.done().getString("conversation_id");
            assertTrue(Files.exists(s.config.logDir().resolve(conversation + ".jsonl")), "turn is durable at done");

            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"alpha beta gamma delta\",\"conversation_id\":\""
                    + conversation + "\",\"options\":{\"max_new_tokens\":2}}");
            WsClient.Reply second = ws.readTurn();
            assertEquals("alpha beta", second.text());
            assertEquals(conversation, second.done().getString("conversation_id"));
            assertEquals("length", second.done().getString("finish_reason"));

            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"red green blue\",\"conversation_id\":\""
                    + conversation + "\",\"options\":{\"maxNewTokens\":1,\"temperature\":0.2}}");
            WsClient.Reply third = ws.readTurn();
            assertEquals("red", third.text());

            // no conversation_id: a new conversation; the socket remembers nothing between frames
            ws.send("{\"agent_id\":\"researcher\",\"user_message\":\"fresh start\"}");
            WsClient.Reply fourth = ws.readTurn();
            assertNotEquals(conversation, fourth.done().getString("conversation_id"));

            JsonObject info = TestSidecar.json(s.get("/conversations/" + conversation).body());
            assertEquals(3, info.getInt("turns"));
            assertEquals("planner", info.getString("agent_id"));
        }
    }

    @Test
    void idleSocketsArePingedSoTheyAreNotClosedAsIdle() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); WsClient ws = WsClient.connect(s.base, "")) {
            assertTrue(ws.pinged.await(10, TimeUnit.SECONDS), "server pings an idle socket");
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"after a ping\"}");
            assertEquals("after a ping", ws.readTurn().text());
        }
    }

    @Test
    void tokenFramesCarryTheConversationId() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); WsClient ws = WsClient.connect(s.base, "")) {
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"hello world\",\"conversation_id\":\"my-conv.1\"}");
            JsonObject token = ws.next();
            assertEquals("token", token.getString("type"));
            assertEquals("hello", token.getString("token"));
            assertEquals("my-conv.1", token.getString("conversation_id"));
            assertEquals("token", ws.next().getString("type"));
            JsonObject done = ws.next();
            assertEquals("done", done.getString("type"));
            assertEquals("my-conv.1", done.getString("conversation_id"));
        }
    }

    @Test
    void badFramesGetOneErrorFrameAndAClose() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            List<String> bad = List.of(
                    "{not json",
                    "[1,2,3]",
                    "42",
                    "{}",
                    "{\"agent_id\":\"planner\"}",
                    "{\"user_message\":\"hi\"}",
                    "{\"agent_id\":5,\"user_message\":\"hi\"}",
                    "{\"agent_id\":\"planner\",\"user_message\":{\"text\":\"hi\"}}",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\",\"options\":{\"max_new_tokens\":\"lots\"}}",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\",\"options\":\"fast\"}",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\",\"conversation_id\":\"../x\"}",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\",\"conversation_id\":7}",
                    "{\"agent_id\":\"nobody\",\"user_message\":\"hi\"}");
            for (String frame : bad) {
                try (WsClient ws = WsClient.connect(s.base, "")) {
                    ws.send(frame);
                    JsonObject error = ws.next();
                    assertEquals("error", error.getString("type"), frame);
                    assertFalse(error.getString("message").isBlank(), frame);
                    assertTrue(ws.awaitClose() > 0, frame + " closes the socket");
                }
            }
            try (WsClient ws = WsClient.connect(s.base, "")) {
                ws.socket.sendBinary(ByteBuffer.wrap(new byte[]{1, 2, 3}), true).get(10, TimeUnit.SECONDS);
                JsonObject error = ws.next();
                assertEquals("error", error.getString("type"));
                assertTrue(error.getString("message").contains("binary"));
                assertTrue(ws.awaitClose() > 0);
            }
            // the server still serves
            try (WsClient ws = WsClient.connect(s.base, "")) {
                ws.send("{\"agent_id\":\"planner\",\"user_message\":\"still fine\"}");
                assertEquals("still fine", ws.readTurn().text());
            }
            s.assertNothingOutsideDataDirs();
            assertFalse(Files.exists(dir.resolve("data").resolve("x.jsonl")));
        }
    }

    @Test
    void busyConversationGetsAnErrorFrameAndTheSocketStaysOpen() throws Exception {
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar s = TestSidecar.ollama(dir, fake);
             WsClient ws = WsClient.connect(s.base, "")) {
            CountDownLatch release = new CountDownLatch(1);
            fake.reply(FakeOllama.Reply.tokens("a", " b").gate(i -> {
                if (i == 1) {
                    release.await();
                }
            }));
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"first\",\"conversation_id\":\"busy-1\"}");
            assertEquals("a", ws.next().getString("token"));
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"second\",\"conversation_id\":\"busy-1\"}");
            JsonObject error = ws.next();
            assertEquals("error", error.getString("type"));
            assertTrue(error.getString("message").toLowerCase().contains("busy")
                    || error.getString("message").toLowerCase().contains("under way"), error.toString());
            release.countDown();
            JsonObject rest = ws.next();
            assertEquals(" b", rest.getString("token"));
            assertEquals("done", ws.next().getString("type"));
            assertFalse(ws.isClosed());
        }
    }

    @Test
    void aFullSpeedReplyArrivesAsOneFrameATokenWhateverTheTokensSize() throws Exception {
        // at full speed the server writes the frames it has pending together; each must still be its own frame,
        // with every length encoding (7-bit, 16-bit, 64-bit) and multi-byte UTF-8 intact
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            tokens.add(switch (i % 7) {
                case 0 -> " w" + i;
                case 1 -> " für";
                case 2 -> " — \"q\" \\ \n";
                case 3 -> " 😀" + i;
                default -> " 東京" + i;
            });
        }
        tokens.add(1000, "x".repeat(125));
        tokens.add(1500, "y".repeat(126));
        tokens.add(2000, "é".repeat(40_000)); // 80,000 bytes
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake);
             WsClient ws = WsClient.connect(s.base, "")) {
            fake.reply(FakeOllama.Reply.tokens(tokens));
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"go\",\"conversation_id\":\"fast-1\","
                    + "\"options\":{\"max_new_tokens\":4000}}");
            for (int i = 0; i < tokens.size(); i++) {
                JsonObject frame = ws.next();
                assertEquals("token", frame.getString("type"), "frame " + i);
                assertEquals(tokens.get(i), frame.getString("token"), "token " + i);
                assertEquals("fast-1", frame.getString("conversation_id"));
            }
            assertEquals("done", ws.next().getString("type"));
        }
    }

    @Test
    void disconnectMidStreamCancelsTheUpstreamRequest() throws Exception {
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(FakeOllama.Reply.tokens("one", " two", " three").stallAfter(2));
            WsClient ws = WsClient.connect(s.base, "");
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"go\",\"conversation_id\":\"mid-1\"}");
            assertEquals("one", ws.next().getString("token"));
            assertEquals(" two", ws.next().getString("token"));
            ws.close(); // abrupt: no close frame
            FakeOllama.Exchange upstream = fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(10));
            upstream.awaitClientClosed(Duration.ofSeconds(10));
            awaitNoActiveTurns(s);
            JsonObject events = TestSidecar.json(s.get("/conversations/mid-1/events").body());
            JsonObject last = events.getJsonArray("events").getJsonObject(events.getJsonArray("events").size() - 1);
            assertEquals("ASSISTANT_MESSAGE", last.getString("type"));
            assertEquals("cancelled", last.getJsonObject("payload").getString("finish_reason"));
            assertEquals("one two", last.getJsonObject("payload").getString("content"));
        }
    }

    @Test
    void disconnectBeforeTheFirstTokenCancelsTheUpstreamRequest() throws Exception {
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(FakeOllama.Reply.tokens("never").stallAfter(0));
            WsClient ws = WsClient.connect(s.base, "");
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"go\",\"conversation_id\":\"early-1\"}");
            FakeOllama.Exchange upstream = fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(10));
            ws.close();
            upstream.awaitClientClosed(Duration.ofSeconds(10));
            awaitNoActiveTurns(s);

            // an orderly close cancels too
            fake.reply(FakeOllama.Reply.tokens("never").stallAfter(0));
            WsClient polite = WsClient.connect(s.base, "");
            polite.send("{\"agent_id\":\"planner\",\"user_message\":\"go\",\"conversation_id\":\"early-2\"}");
            FakeOllama.Exchange second = fake.awaitExchange("/api/chat", 1, Duration.ofSeconds(10));
            polite.socket.sendClose(1000, "bye").get(10, TimeUnit.SECONDS);
            second.awaitClientClosed(Duration.ofSeconds(10));
            polite.close();
        }
    }

    /** Polls until no turn is under way and the stream gauge is back to 0 (the cancelled turn was logged). */
    static void awaitNoActiveTurns(TestSidecar s) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.server.chat().activeTurns() > 0 || s.server.metrics().streamsActive() > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("turns still active: " + s.server.chat().activeTurns());
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
