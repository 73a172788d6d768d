package io.streamingllm.local;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.local.template.ToolCallText;
import io.streamingllm.local.json.JsonConstraint;
import io.streamingllm.local.json.JsonMode;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.Sampler;
import io.streamingllm.local.model.Transformer;
import io.streamingllm.local.tokenizer.StreamingDecoder;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs generations, one at a time, on the engine's worker thread: the turn's prompt from its session,
 * prefill, then sample, decode, stop-check and forward token by token, streaming the text to the
 * generation's listener on this thread. Confined to the worker thread.
 */
final class GenerationLoop {
    /** Ollama's defaults for the knobs {@link GenerationOptions} does not carry. */
    private static final float DEFAULT_TEMPERATURE = 0.8f;
    private static final int DEFAULT_TOP_K = 40;
    private static final float DEFAULT_TOP_P = 0.9f;

    private final ChatModel model;
    private final Transformer transformer;
    private final Set<Integer> stopTokens;
    private final Sessions sessions;
    private final int defaultMaxNewTokens;
    private final JsonMode jsonMode;
    private long unreportedLoadNanos; // the model's load time, until the first result reports it, as Ollama does

    GenerationLoop(ChatModel model, Sessions sessions, int defaultMaxNewTokens) {
        this.model = model;
        this.transformer = model.model().transformer();
        this.stopTokens = model.template().stopTokenIds();
        this.sessions = sessions;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.unreportedLoadNanos = model.loadNanos();
        this.jsonMode = new JsonMode(model.tokenizer(), stopTokens);
    }

    /** Runs {@code g} to its end; its result completes here, exceptionally with {@link EngineException}. */
    void run(LocalGeneration g) {
        long start = System.nanoTime();
        GenerationOptions options = g.options();
        List<ToolDefinition> tools = offered(options.tools());
        ToolCallListener calls = tools.isEmpty() ? null
                : new ToolCallListener(g.listener(), model.template().toolFormat(), tools);
        TokenListener listener = calls == null ? g.listener() : calls;
        int max = maxNewTokens(options);
        Session session = null;
        Session.Turn turn = null;
        try {
            JsonConstraint json = options.format().constrained() ? json(options.format(), max) : null;
            ForcedCall forced = forced(options, tools, max);
            // stop strings could cut a JSON value (or a forced call) short: the constraint decides where it ends
            StopMatcher text = new StopMatcher(json == null && forced == null ? options.stop() : List.of());
            session = sessions.sessionFor(g.sessionKey());
            turn = session.begin(g.messages(), model.template(), tools);
            int[] prompt = turn.prompt();
            KvCache cache = session.cache();
            float temperature = options.temperature() == null ? DEFAULT_TEMPERATURE : options.temperature().floatValue();
            long seed = options.seed() == null ? ThreadLocalRandom.current().nextLong() : options.seed();
            Sampler sampler = new Sampler(temperature, DEFAULT_TOP_K, DEFAULT_TOP_P, seed);
            if (g.cancelled()) {
                sessions.ended(g.sessionKey(), session);
                complete(g, text.text(), FinishReason.CANCELLED, prompt.length, 0, start, start, turn.wholePrompt());
                return;
            }
            // a forced call's opening is prefilled with the prompt: the reply's first tokens, as if the model wrote them
            int[] opening = forced == null ? new int[0] : forced.opening();
            int[] fed = concat(prompt, opening);
            float[] logits = transformer.prefill(cache, fed, true);
            cache.recordAppended(fed);
            int unfed = -1; // last sampled answer token not yet fed to the cache
            long evalStart = System.nanoTime();
            StreamingDecoder decoder = new StreamingDecoder(model.tokenizer(),
                    prompt.length == 1 && prompt[0] == model.tokenizer().specialTokens().bos());
            int generated = opening.length;
            for (int t : opening) {
                text.append(decoder.accept(t), listener);
            }
            FinishReason finish = FinishReason.LENGTH;
            while (generated < max) {
                if (g.cancelled()) {
                    finish = FinishReason.CANCELLED;
                    break;
                }
                JsonConstraint held = forced != null ? forced.constraint() : json;
                int budget = max - generated - (forced != null ? forced.reserved() : 0);
                int token = held == null ? sampler.sample(logits) : held.choose(logits, sampler, budget);
                if (stopTokens.contains(token)) {
                    finish = FinishReason.STOP;
                    break;
                }
                generated++;
                unfed = token;
                boolean complete = false;
                int[] then = null; // forced tokens that follow this one
                if (forced != null && held != null) {
                    then = forced.accept(token);
                } else if (json != null) {
                    json.accept(token);
                    complete = json.mustEnd();
                }
                if (text.append(decoder.accept(token), listener) || complete) {
                    finish = FinishReason.STOP;
                    break;
                }
                if (then != null) { // fed with the token just written, in one batch
                    for (int t : then) {
                        text.append(decoder.accept(t), listener);
                    }
                    generated += then.length;
                    int[] batch = concat(new int[] {token}, then);
                    logits = transformer.prefill(cache, batch, true);
                    cache.recordAppended(batch);
                    unfed = -1;
                    if (forced.endsReply()) {
                        finish = FinishReason.STOP;
                        break;
                    }
                    continue;
                }
                if (generated < max) {
                    logits = transformer.forward(cache, token);
                    cache.recordAppended(token);
                    unfed = -1;
                }
            }
            if (finish != FinishReason.STOP || !text.stopped()) {
                text.append(decoder.flush(), listener);
            }
            text.flush(listener);
            ToolCallText.Parsed parsed = null;
            ToolCallListener.BrokenCall broken = null;
            if (calls != null && finish != FinishReason.CANCELLED) {
                try {
                    parsed = calls.finish();
                } catch (ToolCallListener.BrokenCall e) {
                    broken = e;
                }
            }
            List<ToolCall> made = parsed == null ? List.of() : parsed.calls();
            // the session remembers the answer as the next prompt will carry it: its calls parsed out
            session.end(turn, finish == FinishReason.CANCELLED, made.isEmpty() ? ChatMessage.assistant(text.text())
                    : ChatMessage.toolCalls(parsed.content(), made), unfed);
            sessions.ended(g.sessionKey(), session);
            if (broken != null) {
                throw broken;
            }
            String reply = calls == null ? text.text() : calls.shownText();
            if (!made.isEmpty()) {
                finish = FinishReason.TOOL_CALLS;
            }
            complete(g, reply, finish, prompt.length, generated, start, evalStart, turn.wholePrompt(), made);
        } catch (ToolCallListener.BrokenCall e) { // the text is in the cache and the session; the turn fails
            g.result().completeExceptionally(new EngineException(EngineException.Kind.PROTOCOL, e.getMessage(), e));
        } catch (EngineException e) { // a request the engine cannot honour, refused before the session is touched
            forget(g, session, turn);
            g.result().completeExceptionally(e);
        } catch (ListenerFailure e) {
            forget(g, session, turn);
            g.result().completeExceptionally(new EngineException(EngineException.Kind.INTERNAL,
                    "token listener failed: " + e.getCause().getMessage(), e.getCause()));
        } catch (RuntimeException | Error e) {
            forget(g, session, turn);
            g.result().completeExceptionally(new EngineException(EngineException.Kind.INTERNAL,
                    "local generation failed: " + e, e));
        }
    }

    /**
     * The tools the prompt offers: none when tool calling is off; with {@code tool_choice} naming a function, that one
     * alone (which {@link ForcedCall} then makes the model call).
     */
    static List<ToolDefinition> offered(ToolOptions tools) {
        if (!tools.enabled()) {
            return List.of();
        }
        if (tools.choice() == ToolOptions.Choice.FUNCTION) {
            return tools.definitions().stream().filter(d -> d.name().equals(tools.function())).toList();
        }
        return tools.definitions();
    }

    /**
     * The call {@code tool_choice} {@code required} or a named function forces, or null; {@link EngineException}
     * BAD_REQUEST when it cannot be forced.
     */
    ForcedCall forced(GenerationOptions options, List<ToolDefinition> offered, int maxNewTokens) {
        try {
            return ForcedCall.plan(jsonMode, model.tokenizer(), model.template().toolFormat(), options.tools(), offered,
                    maxNewTokens);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.BAD_REQUEST, e.getMessage(), e);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        if (b.length == 0) {
            return a;
        }
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    int maxNewTokens(GenerationOptions options) {
        return options.maxNewTokens() == null ? defaultMaxNewTokens : Math.max(0, options.maxNewTokens());
    }

    /** The JSON constraint of a generation; {@link EngineException} BAD_REQUEST naming what cannot be enforced. */
    JsonConstraint json(ResponseFormat format, int maxNewTokens) {
        try {
            return jsonMode.start(format, maxNewTokens);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.BAD_REQUEST, e.getMessage(), e);
        }
    }

    private void forget(LocalGeneration g, Session session, Session.Turn turn) {
        if (session != null) {
            session.forget(turn);
            sessions.ended(g.sessionKey(), session);
        }
    }

    /**
     * {@code promptTokens} counts the tokens prefilled: the whole prompt, or only a session turn's new
     * ones. The first result reports the model's load time, included in its total as Ollama's
     * {@code total_duration} includes {@code load_duration}.
     */
    private void complete(LocalGeneration g, String text, FinishReason finish, int promptTokens, int generated,
                          long start, long evalStart, boolean wholePrompt) {
        complete(g, text, finish, promptTokens, generated, start, evalStart, wholePrompt, List.of());
    }

    private void complete(LocalGeneration g, String text, FinishReason finish, int promptTokens, int generated,
                          long start, long evalStart, boolean wholePrompt, List<ToolCall> calls) {
        long now = System.nanoTime();
        long loadNanos = unreportedLoadNanos;
        unreportedLoadNanos = 0;
        g.result().complete(new GenerationResult(text, finish, promptTokens, generated, loadNanos + now - start, loadNanos,
                evalStart - start, now - evalStart, wholePrompt, calls));
    }
}
