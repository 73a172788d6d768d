package io.streamingllm.local;

import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.local.template.ChatTemplate.ToolFormat;
import io.streamingllm.local.template.ToolCallText;

import java.util.List;

/**
 * Between the generated text and the client of a generation that offers tools: text that is surely not part of a
 * call goes on at once, the rest is held until the generation ends; then the held text that is not a call goes on
 * and each call goes to {@link TokenListener#onToolCall}. So a client sees calls, never their markup. One per
 * generation, on the engine's worker.
 */
final class ToolCallListener implements TokenListener {
    /** The model wrote a call whose JSON is broken; the turn fails with this message. */
    static final class BrokenCall extends RuntimeException {
        BrokenCall(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final TokenListener client;
    private final ToolFormat format;
    private final List<ToolDefinition> tools;
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder shown = new StringBuilder();

    ToolCallListener(TokenListener client, ToolFormat format, List<ToolDefinition> tools) {
        this.client = client;
        this.format = format;
        this.tools = tools;
    }

    @Override
    public void onToken(String delta) {
        text.append(delta);
        int upTo = ToolCallText.shown(format, text.toString());
        if (upTo > shown.length()) {
            String more = text.substring(shown.length(), upTo);
            shown.append(more);
            client.onToken(more);
        }
    }

    /**
     * At the generation's end: the held text that is not a call, then the calls; {@link BrokenCall} when a call's
     * JSON is broken (what was shown stays shown).
     */
    ToolCallText.Parsed finish() {
        ToolCallText.Parsed parsed;
        try {
            parsed = ToolCallText.parse(format, text.toString(), tools);
        } catch (IllegalArgumentException e) {
            throw new BrokenCall(e.getMessage(), e);
        }
        String content = parsed.content();
        if (content.length() > shown.length() && content.startsWith(shown.toString())) {
            String rest = content.substring(shown.length());
            shown.append(rest);
            emit(() -> client.onToken(rest));
        }
        for (ToolCall call : parsed.calls()) {
            emit(() -> client.onToolCall(call));
        }
        return parsed;
    }

    /** The text the client got. */
    String shownText() {
        return shown.toString();
    }

    private static void emit(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            throw new ListenerFailure(e);
        }
    }
}
