package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;
import io.streamingllm.bench.LoadRun.Tally;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import jakarta.json.spi.JsonProvider;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The WebSocket path: each session one {@code /ws/chat} socket with a logged conversation, the sidecar relaying
 * from the fake Ollama upstream; the baseline streams {@code POST /api/chat} from the fake, one connection each.
 */
final class OllamaWsPath implements RelayPath {
    private static final String MODEL = "llama3.2:latest";
    private static final JsonProvider JSON = JsonProvider.provider();
    private static final byte[] TOKEN_FRAME = "{\"type\":\"token\"".getBytes(StandardCharsets.US_ASCII);

    private final FakeOllama upstream = FakeOllama.start(MODEL).recording(false);

    @Override
    public String name() {
        return "WebSocket + Ollama";
    }

    @Override
    public Map<String, String> sidecarEnv() {
        return Map.of("STREAMING_LLM_MODEL", MODEL, "STREAMING_LLM_OLLAMA_URL", upstream.baseUri().toString());
    }

    @Override
    public void reply(List<String> tokens, int delayMs) {
        upstream.reply(FakeOllama.Reply.tokens(tokens).tokenDelay(Duration.ofMillis(delayMs)));
    }

    @Override
    public Outcome direct(Scenario s) throws Exception {
        Tally tally = new Tally();
        LoadRun.runSessions(s, (session, gate) -> {
            try (LeanChatClient client = LeanChatClient.connect(upstream.baseUri(), 30_000)) {
                for (int t = 0; t < s.turns(); t++) {
                    String body = "{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello "
                            + session + "\"}]}";
                    gate.beforeTurn();
                    long t0 = System.nanoTime();
                    LeanChatClient.Reply reply = client.chat(body);
                    tally.tokens.addAndGet(reply.tokens());
                    if (reply.tokens() > 0) {
                        tally.turn(session, t, t0, reply.firstTokenNanos() - t0);
                    }
                }
            } catch (IOException e) {
                tally.errors.incrementAndGet();
            }
        });
        return tally.outcome();
    }

    /** Each session: one WebSocket, {@code turns} turns in a row, each read to its done frame. */
    @Override
    public Outcome via(int port, Scenario s) throws Exception {
        Tally tally = new Tally();
        LoadRun.runSessions(s, (session, gate) -> {
            try (LeanWebSocket ws = LeanWebSocket.connect("127.0.0.1", port, "/ws/chat", 60_000)) {
                for (int t = 0; t < s.turns(); t++) {
                    gate.beforeTurn();
                    long t0 = System.nanoTime();
                    ws.sendText("{\"agent_id\":\"planner\",\"conversation_id\":\"" + s.conversationPrefix() + session
                            + "\",\"user_message\":\"hello " + t + "\"}");
                    long first = 0;
                    String end = null;
                    while (end == null) {
                        int op = ws.next();
                        if (op == LeanWebSocket.TEXT && ws.startsWith(TOKEN_FRAME)) {
                            // the server writes "type" first; token frames are counted, not parsed
                            if (first == 0) {
                                first = System.nanoTime();
                            }
                            tally.tokens.incrementAndGet();
                        } else if (op == LeanWebSocket.TEXT) {
                            JsonObject json = JSON.createReader(new StringReader(ws.text())).readObject();
                            end = json.getString("type", "").equals("done") ? "done" : "error: " + ws.text();
                        } else {
                            end = "unexpected frame " + op + ": " + ws.text();
                        }
                    }
                    if (!end.equals("done") || first == 0) {
                        System.err.println("  session " + session + " turn " + t + ": " + end);
                        tally.errors.incrementAndGet();
                        return;
                    }
                    tally.turn(session, t, t0, first - t0);
                }
            } catch (IOException e) {
                System.err.println("  session " + session + ": " + e);
                tally.errors.incrementAndGet();
            }
        });
        return tally.outcome();
    }

    @Override
    public void close() {
        upstream.close();
    }
}
