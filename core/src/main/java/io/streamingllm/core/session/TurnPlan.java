package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.session.payload.WindowState;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A logged turn from its opening to its reply: what the reply's events and the conversation's next state
 * need from the opening.
 *
 * @param conversation the conversation, held for this turn
 * @param number       the turn's number in the conversation, from 1
 * @param userEventId  the id of the turn's USER_MESSAGE (a later refresh names it when the turn leaves the window)
 * @param userTokens   the user message's tokens as logged
 * @param sinkText     the sink the prompt starts with (a retry in a smaller window keeps it)
 * @param recallBlock  the evicted turns recalled into the prompt (a retry keeps them: the log names them); "" for none
 * @param window       the window the prompt was built in, logged with the reply
 * @param evicted      whether opening the turn evicted older turns (llm mode then rewrites the summary)
 * @param opened       completes once the USER_MESSAGE (and the refresh of any eviction) is durable
 * @param results      the tool results the turn opened with (logged with its USER_MESSAGE); empty for a user turn
 */
record TurnPlan(ConversationState conversation, int number, String userEventId, String userText, int userTokens,
                String sinkText, String recallBlock, WindowState window, boolean evicted, List<ChatMessage> prompt,
                GenerationOptions options, CompletableFuture<Void> opened, List<ChatMessage> results) {
}
