/**
 * Endless conversations at a constant cost per turn: {@link io.streamingllm.core.session.ChatService} and the
 * state behind it.
 *
 * <h2>Terms</h2>
 * <ul>
 *   <li>A <b>conversation</b> is an append-only sequence of turns owned by one agent, kept as its event log
 *       ({@code LOG_DIR/{conversation_id}.jsonl}) plus a summary file. The log is the source of truth: whatever
 *       the service holds in memory is rebuilt from it.</li>
 *   <li>A <b>turn</b> is a user message and the reply to it, numbered from 1; one turn at a time per
 *       conversation. A turn ends completed ({@code stop}), truncated ({@code length}), cancelled or failed; all
 *       four are logged, only the first two go into later prompts. Turns enter and leave the window whole.</li>
 *   <li>The <b>window</b> is what a prompt is built from: {@code [sink][summary][recall][recent turns][new user turn]}
 *       (recall: the evicted turns most relevant to the new message, from the {@link io.streamingllm.core.session.ConversationIndex}).
 *       The sink is the agent's system prompt and context (the attention sink, never evicted); the recent turns
 *       are the newest that fit {@code STREAMING_LLM_RECENT_SIZE}; when a new message would overflow it, the
 *       oldest turns leave down to 75 % of it (hysteresis, so the prompt prefix stays stable for several turns)
 *       and are folded into the rolling summary, itself bounded by {@code STREAMING_LLM_SUMMARY_SIZE}. Every
 *       reply logs the window its prompt was built in. A relayed call (the Ollama-compatible API) brings its own
 *       history, and the window is applied to that.</li>
 *   <li><b>Residency</b>: a conversation in use is held in memory as a {@code ConversationState} (the window
 *       and the summary only, never the whole history); past a bound, the least recently used idle ones leave
 *       memory and are loaded from the log again on their next use, unchanged.</li>
 * </ul>
 *
 * <h2>Classes</h2>
 * <ul>
 *   <li>{@code ChatService}: the facade; validates requests and wires the pieces below.</li>
 *   <li>{@code ResidentConversations}: residency, and who holds a conversation for its turn.</li>
 *   <li>{@code TurnRunner}, {@code TurnPlan}, {@code RunningTurn}: a turn from its opening to its durable end;
 *       relayed calls that log nothing; shutdown.</li>
 *   <li>{@code PromptWindow}: eviction, the prompt, the window over a relayed history, generation options.</li>
 *   <li>{@code RollingSummary}, {@code ExtractiveSummarizer}: the summary of the turns that left the window.</li>
 *   <li>{@code Recall}, {@link io.streamingllm.core.session.ConversationIndex}: which evicted turns a prompt
 *       recalls, from the search index the service is told each append (after it returned) and each archive;
 *       {@code LoggedPrompt}: a logged turn's prompt built again from the log alone.</li>
 *   <li>{@code ConversationReplay}: the one reading of a log into a conversation's state, used by
 *       {@code ConversationLoader} to load a conversation and to describe an idle one from its last events, and
 *       by the summary rebuild. It applies events one at a time, so a state can also be brought up to date with
 *       events appended since (by another replica sharing the store).</li>
 *   <li>{@link io.streamingllm.core.session.payload}: what each event's payload holds.</li>
 * </ul>
 *
 * <h2>Threads of a turn</h2>
 * <ol>
 *   <li>The caller's thread runs {@code startTurn} (or {@code relay}): it validates the request, takes the
 *       conversation (loading it from the log if it is not in memory), waits for an llm summary rewrite still
 *       under way, evicts and folds, builds the prompt and starts the generation. It may block on disk, so
 *       call it where blocking is allowed (the server calls it on the request's virtual thread). It returns the
 *       {@link io.streamingllm.core.session.Turn} at once; refusals ({@code SessionException}) are thrown
 *       before anything is logged.</li>
 *   <li>A background virtual thread of the service writes the summary file and appends the USER_MESSAGE (with
 *       the SUMMARY_REFRESH of any eviction) while the reply streams, then hands them to the index.</li>
 *   <li>The {@link io.streamingllm.core.engine.TokenListener} runs on the engine's thread (for the HTTP engines, the
 *       virtual thread reading that call's response) and should not block: hand tokens to a queue if their consumer
 *       can be slow. A listener that throws cancels the turn.</li>
 *   <li>Another background virtual thread completes the turn: it waits for the user message to be durable,
 *       appends the ASSISTANT_MESSAGE (and ERROR for a failed turn) and hands them to the index, moves the
 *       conversation's state on, lets the conversation go and completes {@code Turn.result()}. In llm mode a turn
 *       that evicted then schedules the summary rewrite on a further background thread; the conversation's next turn waits for it.</li>
 * </ol>
 * When {@code Turn.result()} completes, normally or with the engine's failure, every event of the turn is
 * durable in the log (and the summary file its refresh names is written); what a client was told is done
 * survives a crash. An llm rewrite is not yet durable then. If the log cannot take the turn, the result
 * completes with that failure and the conversation's state is rebuilt from the log on its next use. A relayed
 * call that names no conversation logs nothing; its result completes on the engine's thread.
 */
package io.streamingllm.core.session;
