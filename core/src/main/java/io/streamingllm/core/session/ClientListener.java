package io.streamingllm.core.session;

import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;

import java.util.function.Consumer;

/**
 * The engine's listener of a turn: notes what came ({@code onText}, {@code onCall}) before handing it to the
 * client's listener, and turns a failing client into {@code onFailure} (the turn is cancelled) instead of an
 * exception on the engine's thread.
 */
final class ClientListener implements TokenListener {
    private final TokenListener client;
    private final Consumer<String> onText;
    private final Runnable onCall;
    private final Consumer<RuntimeException> onFailure;

    ClientListener(TokenListener client, Consumer<String> onText, Runnable onCall, Consumer<RuntimeException> onFailure) {
        this.client = client;
        this.onText = onText;
        this.onCall = onCall;
        this.onFailure = onFailure;
    }

    @Override
    public void onToken(String delta) {
        onText.accept(delta);
        try {
            client.onToken(delta);
        } catch (RuntimeException e) {
            onFailure.accept(e);
        }
    }

    @Override
    public void onToolCall(ToolCall call) {
        onCall.run();
        try {
            client.onToolCall(call);
        } catch (RuntimeException e) {
            onFailure.accept(e);
        }
    }
}
