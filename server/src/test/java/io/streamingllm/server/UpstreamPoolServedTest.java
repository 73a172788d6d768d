package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sidecar started as Main starts it, with STREAMING_LLM_OLLAMA_URL naming three fake Ollamas. */
class UpstreamPoolServedTest {
    @TempDir
    Path dir;

    private static String chat(TestSidecar s, String conversation) {
        HttpResponse<String> r = s.post("/api/chat", "{\"model\":\"llama3.2\",\"stream\":false,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}", "X-Conversation-Id", conversation);
        assertEquals(200, r.statusCode(), r.body());
        return TestSidecar.json(r.body()).getJsonObject("message").getString("content");
    }

    @Test
    void aListOfUrlsIsAPoolThatStaysReadyWhileOneUpstreamIsAndShowsEachOne() {
        try (FakeOllama a = FakeOllama.start().reply(FakeOllama.Reply.tokens("A"));
             FakeOllama b = FakeOllama.start().reply(FakeOllama.Reply.tokens("B"));
             FakeOllama c = FakeOllama.start().reply(FakeOllama.Reply.tokens("C"));
             TestSidecar s = TestSidecar.fromModel(dir, "ollama:llama3.2:latest", Map.of(SidecarConfig.OLLAMA_URL,
                     a.baseUri() + ", " + b.baseUri() + "," + c.baseUri()))) {
            HttpResponse<String> ready = s.get("/readyz");
            assertEquals(200, ready.statusCode(), ready.body());
            JsonArray upstreams = TestSidecar.json(ready.body()).getJsonArray("upstreams");
            assertEquals(List.of(a.baseUri().toString(), b.baseUri().toString(), c.baseUri().toString()),
                    upstreams.stream().map(u -> u.asJsonObject().getString("url")).toList());
            upstreams.forEach(u -> assertEquals("up", u.asJsonObject().getString("state")));

            Set<String> servedBy = new HashSet<>();
            for (int turn = 0; turn < 5; turn++) {
                servedBy.add(chat(s, "pool-conv-1"));
            }
            assertEquals(1, servedBy.size(), "one conversation, one upstream: " + servedBy);

            b.close();
            c.close();
            HttpResponse<String> oneLeft = s.get("/readyz");
            assertEquals(200, oneLeft.statusCode(), "ready while one upstream is: " + oneLeft.body());
            JsonObject body = TestSidecar.json(oneLeft.body());
            assertEquals(List.of("up", "down", "down"), body.getJsonArray("upstreams").stream()
                    .map(u -> u.asJsonObject().getString("state")).toList());
            assertTrue(body.getJsonArray("upstreams").getJsonObject(1).getString("detail").contains(b.baseUri().toString()),
                    body.toString());
            for (int i = 0; i < 6; i++) {
                assertEquals("A", chat(s, "pool-conv-" + i), "every conversation reaches the one upstream left");
            }
            String metrics = s.get("/metrics").body();
            assertTrue(metrics.contains("streamingllm_upstream_up{upstream=\"" + a.baseUri() + "\"} 1"), metrics);
            assertTrue(metrics.contains("streamingllm_upstream_up{upstream=\"" + b.baseUri() + "\"} 0"), metrics);
            assertTrue(metrics.contains("streamingllm_upstream_streams_active{upstream=\"" + a.baseUri() + "\"} 0"), metrics);
            assertTrue(metrics.contains("streamingllm_upstream_time_to_first_token_seconds_count{upstream=\""
                    + a.baseUri() + "\"} "), metrics);

            a.close();
            HttpResponse<String> none = s.get("/readyz");
            assertEquals(503, none.statusCode(), none.body());
            assertTrue(none.body().contains("0 of 3 upstreams ready"), none.body());
        }
    }
}
