package io.streamingllm.server;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LangChain4j's OpenAI module, unchanged, pointed at the sidecar's {@code /v1} (as any OpenAI client is, by its
 * base URL): chats whole and streamed with usage, stop sequences and token limits, embeds, and raises its typed
 * exceptions, carrying the sidecar's message, for the sidecar's errors.
 */
class LangChain4jOpenAiClientTest {
    @TempDir
    Path dir;

    private static String v1(TestSidecar s) {
        return s.base + "/v1";
    }

    private static OpenAiChatModel chat(TestSidecar s, String model, String key, Integer maxTokens, List<String> stop) {
        return OpenAiChatModel.builder().baseUrl(v1(s)).apiKey(key).modelName(model).maxTokens(maxTokens).stop(stop)
                .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
    }

    private static OpenAiStreamingChatModel streaming(TestSidecar s, String model, String key) {
        return OpenAiStreamingChatModel.builder().baseUrl(v1(s)).apiKey(key).modelName(model)
                .timeout(Duration.ofSeconds(20)).build();
    }

    /** The streamed reply: its parts and the complete response, or the error the client raised. */
    record Streamed(List<String> parts, ChatResponse response, Throwable error) {
    }

    private static Streamed stream(OpenAiStreamingChatModel model, ChatRequest request) throws Exception {
        List<String> parts = new ArrayList<>();
        CompletableFuture<Streamed> done = new CompletableFuture<>();
        model.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(new Streamed(parts, response, null));
            }

            @Override
            public void onError(Throwable error) {
                done.complete(new Streamed(parts, null, error));
            }
        });
        return done.get(30, TimeUnit.SECONDS);
    }

    private static ChatRequest ask(String text) {
        return ChatRequest.builder().messages(SystemMessage.from("be brief"), UserMessage.from(text)).build();
    }

    @Test
    void chatsWholeAndStreamedWithUsageStopAndLimits() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            ChatResponse whole = chat(s, "echo", "none", null, null).chat(ask("hello from java"));
            assertEquals("hello from java", whole.aiMessage().text());
            assertEquals(FinishReason.STOP, whole.finishReason());
            assertEquals(3, whole.tokenUsage().outputTokenCount());
            assertTrue(whole.tokenUsage().inputTokenCount() > 0);

            ChatResponse limited = chat(s, "echo", "none", 2, null).chat(ask("one two three four"));
            assertEquals("one two", limited.aiMessage().text());
            assertEquals(FinishReason.LENGTH, limited.finishReason());

            ChatResponse stopped = chat(s, "echo", "none", null, List.of("three")).chat(ask("one two three four"));
            assertEquals("one two", stopped.aiMessage().text().strip());
            assertEquals(FinishReason.STOP, stopped.finishReason());

            Streamed streamed = stream(streaming(s, "echo", "none"), ask("stream these words please"));
            assertEquals(null, streamed.error());
            assertEquals(4, streamed.parts().size(), "one part per token: " + streamed.parts());
            assertEquals("stream these words please", String.join("", streamed.parts()));
            assertEquals("stream these words please", streamed.response().aiMessage().text());
            assertEquals(FinishReason.STOP, streamed.response().finishReason());
            assertNotNull(streamed.response().tokenUsage(), "include_usage gave the usage chunk");
            assertEquals(4, streamed.response().tokenUsage().outputTokenCount());
        }
    }

    @Test
    void errorsRaiseTheClientsTypedExceptionsWithOurMessage() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.API_TOKEN, "sekret"))) {
            ModelNotFoundException notFound = assertThrows(ModelNotFoundException.class,
                    () -> chat(s, "gpt-4o", "sekret", null, null).chat(ask("x")));
            assertTrue(notFound.getMessage().contains("gpt-4o"), notFound.getMessage());

            AuthenticationException auth = assertThrows(AuthenticationException.class,
                    () -> chat(s, "echo", "wrong", null, null).chat(ask("x")));
            assertTrue(auth.getMessage().contains("bearer token"), auth.getMessage());

            InvalidRequestException invalid = assertThrows(InvalidRequestException.class,
                    () -> chat(s, "echo", "sekret", null, null).chat(ChatRequest.builder()
                            .messages(SystemMessage.from("only a system prompt")).build()));
            assertTrue(invalid.getMessage().contains("at least one user"), invalid.getMessage());

            Streamed streamedNotFound = stream(streaming(s, "gpt-4o", "sekret"), ask("x"));
            assertInstanceOf(ModelNotFoundException.class, streamedNotFound.error());
            assertTrue(streamedNotFound.parts().isEmpty());
        }
        try (TestSidecar s = TestSidecar.withEngine(dir.resolve("limited"), new OpenAiApiTest.RateLimitedEngine(),
                Map.of())) {
            RateLimitException limited = assertThrows(RateLimitException.class,
                    () -> chat(s, "limited", "none", null, null).chat(ask("x")));
            assertTrue(limited.getMessage().contains("rate limiting"), limited.getMessage());
        }
    }

    @Test
    void frontsAnOllamaUpstreamWithItsModelsAndEmbeddings() throws Exception {
        try (FakeOllama fake = FakeOllama.start("llama3.2", "qwen2:0.5b", "all-minilm");
             TestSidecar s = TestSidecar.ollama(dir, fake)) {
            Streamed streamed = stream(streaming(s, "qwen2:0.5b", "none"), ask("through ollama"));
            assertEquals("through ollama", streamed.response().aiMessage().text());
            assertEquals("qwen2:0.5b", fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(5)).json().getString("model"));

            assertThrows(ModelNotFoundException.class, () -> chat(s, "not-pulled", "none", null, null).chat(ask("x")));

            OpenAiEmbeddingModel embedder = OpenAiEmbeddingModel.builder().baseUrl(v1(s)).apiKey("none")
                    .modelName("all-minilm").maxRetries(0).build();
            Response<Embedding> one = embedder.embed("some text");
            assertEquals(4, one.content().vector().length);
            assertEquals(2, one.tokenUsage().inputTokenCount());
            assertEquals(one.content(), embedder.embed("some text").content(), "the same text, the same vector");
        }
    }
}
