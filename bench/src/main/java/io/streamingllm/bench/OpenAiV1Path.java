package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;
import io.streamingllm.bench.LoadRun.Tally;
import io.streamingllm.core.testing.FakeOpenAi;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's path: each session one kept-alive HTTP/1.1 connection posting streamed {@code /v1/chat/completions} with
 * its whole history, as OpenAI clients do, and {@code X-Conversation-Id} so each call is a logged turn as on the
 * WebSocket; the sidecar runs {@code openai:NAME} in front of the fake OpenAI-compatible server. The baseline posts
 * the same requests to the fake itself.
 */
final class OpenAiV1Path implements RelayPath {
    private static final String MODEL = "bench-model";
    private static final String CHAT = "/v1/chat/completions";

    private final FakeOpenAi upstream = FakeOpenAi.start(MODEL).recording(false);
    /** The assistant's reply as JSON string content, for the history the next turn sends. */
    private volatile String replyJson = "\"\"";

    @Override
    public String name() {
        return "/v1 + OpenAI";
    }

    @Override
    public Map<String, String> sidecarEnv() {
        return Map.of("STREAMING_LLM_MODEL", "openai:" + MODEL, "STREAMING_LLM_OPENAI_URL", upstream.baseUri().toString());
    }

    @Override
    public void reply(List<String> tokens, int delayMs) {
        upstream.reply(FakeOpenAi.Reply.tokens(tokens).tokenDelay(Duration.ofMillis(delayMs)));
        replyJson = "\"" + String.join("", tokens).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public Outcome direct(Scenario s) throws Exception {
        return run(upstream.port(), s, false);
    }

    @Override
    public Outcome via(int port, Scenario s) throws Exception {
        return run(port, s, true);
    }

    private Outcome run(int port, Scenario s, boolean logged) throws Exception {
        Tally tally = new Tally();
        String assistant = replyJson;
        LoadRun.runSessions(s, (session, gate) -> {
            String conversation = logged ? s.conversationPrefix() + session : null;
            StringBuilder history = new StringBuilder();
            try (LeanSse client = LeanSse.connect("127.0.0.1", port, 60_000)) {
                for (int t = 0; t < s.turns(); t++) {
                    history.append(t == 0 ? "" : ",{\"role\":\"assistant\",\"content\":" + assistant + "},")
                            .append("{\"role\":\"user\",\"content\":\"hello ").append(t).append("\"}");
                    String body = "{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":[" + history + "]}";
                    gate.beforeTurn();
                    long t0 = System.nanoTime();
                    LeanSse.Reply reply = client.post(CHAT, conversation, body);
                    tally.tokens.addAndGet(reply.tokens());
                    if (reply.error() != null || reply.tokens() == 0) {
                        System.err.println("  session " + session + " turn " + t + ": "
                                + (reply.error() == null ? "no tokens" : reply.error()));
                        tally.errors.incrementAndGet();
                        return;
                    }
                    tally.turn(session, t, t0, reply.firstTokenNanos() - t0);
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
