package io.streamingllm.server.stream;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.RelayRequest;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.core.session.payload.WindowState;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.limits.ClientGone;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.TurnMeter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The one relay path of the chat APIs that carry their own history (Ollama's {@code /api/chat} and
 * {@code /api/generate}, OpenAI's {@code /v1/chat/completions} and {@code /v1/completions}); they differ only in
 * their wire formats. A call runs through the chat service with the window applied; {@code X-Conversation-Id}
 * makes it a logged turn of that conversation; every answer says what the window did ({@link WindowHeaders}).
 *
 * <p>An unknown model is told apart from a broken engine here: when the request named a model and the engine
 * answers {@link EngineException.Kind#MODEL_NOT_FOUND}, the client asked for something that is not there (404
 * {@code model_not_found}); without a name it is the configured model that is missing (503, as before).
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class ChatRelay {
    private static final HeaderName CONVERSATION_ID = HeaderNames.create(WindowHeaders.CONVERSATION_ID);

    private final ChatService chat;
    private final EngineGate gate;
    private final Metrics metrics;
    private final StreamSettings settings;

    public ChatRelay(ChatService chat, EngineGate gate, Metrics metrics, StreamSettings settings) {
        this.chat = chat;
        this.gate = gate;
        this.metrics = metrics;
        this.settings = settings;
    }

    /** A whole reply: the turn, its durable result, the text it streamed and the tools it called. */
    public record Reply(Turn turn, TurnResult result, String text, List<ToolCall> toolCalls) {
        public WindowState window() {
            return turn.window();
        }
    }

    /**
     * Streams the reply in the format made for the started turn (which may quote its window); a refusal before the
     * first token is thrown with its status.
     */
    public void stream(ServerRequest req, ServerResponse res, List<ChatMessage> messages, GenerationOptions options,
                       Function<Turn, StreamFormat> format) {
        TurnStreamer streamer = new TurnStreamer(settings);
        Turn turn = start(req, messages, options, new TurnMeter(metrics, streamer));
        streamer.stream(turn, res, format.apply(turn));
    }

    /** Runs the turn to its durable end; throws the {@link ApiException} of a failed one. */
    public Reply whole(ServerRequest req, List<ChatMessage> messages, GenerationOptions options) {
        StringBuilder text = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        // the engine's thread appends, the request's reads after join(): the future's completion orders them
        Turn turn = start(req, messages, options, new TurnMeter(metrics, new TokenListener() {
            @Override
            public void onToken(String delta) {
                text.append(delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                calls.add(call);
            }
        }));
        try {
            // a client that leaves cancels the upstream (issue 19): non-streamed calls too
            return new Reply(turn, ClientGone.await(req, turn.result(), turn::cancel), text.toString(), List.copyOf(calls));
        } catch (CompletionException e) {
            throw Errors.toApi(e.getCause() == null ? e : e.getCause());
        }
    }

    /** The window headers and the conversation of a whole reply. */
    public static void headers(ServerResponse res, Reply reply) {
        WindowHeaders.set(res, reply.turn());
    }

    private Turn start(ServerRequest req, List<ChatMessage> messages, GenerationOptions options, TurnMeter meter) {
        String conversation = req.headers().first(CONVERSATION_ID)
                .map(id -> Ids.require("conversation", id.trim())).orElse(null);
        gate.requireReadyFor(options.model());
        boolean namedModel = options.model() != null;
        Turn turn;
        try {
            turn = chat.relay(new RelayRequest(messages, conversation, options), meter);
        } catch (RuntimeException e) {
            meter.refused();
            throw namedModel ? modelNotFound(e) : e;
        }
        meter.follow(turn.result());
        return namedModel ? new NamedModelTurn(turn) : turn;
    }

    /** A named model the engine does not have is the client's 404; anything else passes unchanged. */
    static RuntimeException modelNotFound(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof EngineException e && e.kind() == EngineException.Kind.MODEL_NOT_FOUND) {
            return new ApiException(404, "model_not_found", e.getMessage(), "model", null);
        }
        return cause instanceof RuntimeException r ? r : new CompletionException(cause);
    }

    /** A turn whose failure {@link #modelNotFound} maps, for a request that named its model. */
    private static final class NamedModelTurn implements Turn {
        private final Turn turn;
        private final CompletableFuture<TurnResult> result;

        NamedModelTurn(Turn turn) {
            this.turn = turn;
            this.result = turn.result().exceptionallyCompose(e -> CompletableFuture.failedFuture(modelNotFound(e)));
        }

        @Override
        public String conversationId() {
            return turn.conversationId();
        }

        @Override
        public CompletableFuture<TurnResult> result() {
            return result;
        }

        @Override
        public WindowState window() {
            return turn.window();
        }

        @Override
        public void cancel() {
            turn.cancel();
        }
    }
}
