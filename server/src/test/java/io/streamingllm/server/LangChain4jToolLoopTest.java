package io.streamingllm.server;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LangChain4j's OpenAI client runs a whole agent loop through the sidecar's {@code /v1} (call, result, final
 * answer), whole and streamed, in front of an Ollama upstream that calls tools the way Ollama does (whole calls,
 * arguments as an object, no ids): the translation both ways is what is under test.
 */
class LangChain4jToolLoopTest {
    private static final ToolSpecification WEATHER = ToolSpecification.builder().name("get_weather")
            .description("Current weather of a city")
            .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();

    @TempDir
    Path dir;

    /** The upstream: calls get_weather for Paris, and answers with the result once it has one. */
    private static FakeOllama.Reply weatherAgent(FakeOllama.Exchange ex) {
        JsonArray messages = ex.json().getJsonArray("messages");
        JsonObject last = messages.getJsonObject(messages.size() - 1);
        if ("tool".equals(last.getString("role"))) {
            return FakeOllama.Reply.tokens("It is ", last.getString("content"), " in Paris.");
        }
        return FakeOllama.Reply.tokens().toolCalls(new FakeOllama.Call("get_weather", "{\"city\":\"Paris\"}"));
    }

    private static List<ChatMessage> loop(ChatResponse first, String result) {
        ToolExecutionRequest call = first.aiMessage().toolExecutionRequests().getFirst();
        return List.of(UserMessage.from("Weather in Paris?"), first.aiMessage(), ToolExecutionResultMessage.from(call, result));
    }

    @Test
    void wholeToolLoop() {
        try (FakeOllama fake = FakeOllama.start("llama3.2:latest"); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(LangChain4jToolLoopTest::weatherAgent);
            OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(s.base + "/v1").apiKey("none")
                    .modelName("llama3.2:latest").maxRetries(0).timeout(Duration.ofSeconds(20)).build();

            ChatResponse first = model.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                    .toolSpecifications(WEATHER).build());
            assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
            ToolExecutionRequest call = first.aiMessage().toolExecutionRequests().getFirst();
            assertEquals("get_weather", call.name());
            assertEquals("Paris", TestSidecar.json(call.arguments()).getString("city"));
            assertTrue(call.id().startsWith("call_"), call.id());

            ChatResponse answer = model.chat(ChatRequest.builder().messages(loop(first, "21 C"))
                    .toolSpecifications(WEATHER).build());
            assertEquals("It is 21 C in Paris.", answer.aiMessage().text());
            assertEquals(FinishReason.STOP, answer.finishReason());
            JsonObject result = fake.exchanges("/api/chat").getLast().json().getJsonArray("messages").getJsonObject(2);
            assertEquals("get_weather", result.getString("tool_name"), "the result reached Ollama named by its tool");
        }
    }

    @Test
    void streamedToolLoop() throws Exception {
        try (FakeOllama fake = FakeOllama.start("llama3.2:latest"); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(LangChain4jToolLoopTest::weatherAgent);
            OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(s.base + "/v1").apiKey("none")
                    .modelName("llama3.2:latest").timeout(Duration.ofSeconds(20)).build();

            ChatResponse first = stream(model, ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                    .toolSpecifications(WEATHER).build());
            assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
            AiMessage ai = first.aiMessage();
            assertEquals(1, ai.toolExecutionRequests().size());
            assertEquals("Paris", TestSidecar.json(ai.toolExecutionRequests().getFirst().arguments()).getString("city"));

            ChatResponse answer = stream(model, ChatRequest.builder().messages(loop(first, "19 C"))
                    .toolSpecifications(WEATHER).build());
            assertEquals("It is 19 C in Paris.", answer.aiMessage().text());
        }
    }

    private static ChatResponse stream(OpenAiStreamingChatModel model, ChatRequest request) throws Exception {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        List<String> parts = new ArrayList<>();
        model.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return done.get(30, TimeUnit.SECONDS);
    }
}
