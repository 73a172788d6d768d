/**
 * The payload schema of a conversation's events: one record per event type, each writing its payload
 * ({@code toJson}, {@code toEvent}) and reading it back ({@code from}). Every writer and reader of these payloads
 * goes through here (the session when it logs and replays a turn, the server when it shows a conversation's
 * window); key names are in {@link io.streamingllm.core.session.payload.PayloadKeys}. Keys are written in the
 * order of the table. Readers accept any log this service ever wrote: an absent key reads as the last column.
 *
 * <table>
 *   <caption>Event payloads</caption>
 *   <tr><th>event (visibility)</th><th>key</th><th>JSON</th><th>meaning</th><th>absent</th></tr>
 *   <tr><td rowspan="7">USER_MESSAGE (user)<br>{@link io.streamingllm.core.session.payload.UserMessage}</td>
 *       <td>{@code content}</td><td>string</td><td>the user's message</td><td>""</td></tr>
 *   <tr><td>{@code agent_id}</td><td>string</td><td>the agent owning the conversation</td><td>null</td></tr>
 *   <tr><td>{@code turn}</td><td>int</td><td>the turn's number, from 1</td><td>0</td></tr>
 *   <tr><td>{@code tokens}</td><td>int</td><td>the message's tokens as counted for the window</td><td>0</td></tr>
 *   <tr><td>{@code tool_results}</td><td>array of object</td><td>present only when the client handed back tool
 *       results: {@code {tool_call_id, tool_name, content}} each, in order</td><td>[]</td></tr>
 *   <tr><td>{@code recalled_event_ids}</td><td>array of string</td><td>present only when evicted turns were
 *       recalled into this turn's prompt: their USER_MESSAGE ids, in conversation order (the choice, so the prompt
 *       can be built again from the log whatever the index holds)</td><td>[]</td></tr>
 *   <tr><td>{@code recall_tokens}</td><td>int</td><td>with {@code recalled_event_ids}: the tokens the recalled
 *       turns took</td><td>0</td></tr>
 *   <tr><td rowspan="15">ASSISTANT_MESSAGE (user)<br>{@link io.streamingllm.core.session.payload.AssistantMessage}</td>
 *       <td>{@code content}</td><td>string</td><td>the reply (the partial text of a cancelled or failed turn)</td><td>""</td></tr>
 *   <tr><td>{@code agent_id}</td><td>string</td><td>the agent owning the conversation</td><td>null</td></tr>
 *   <tr><td>{@code model}</td><td>string</td><td>the engine's model</td><td>null</td></tr>
 *   <tr><td>{@code turn}</td><td>int</td><td>the number of the turn it answers</td><td>0</td></tr>
 *   <tr><td>{@code finish_reason}</td><td>string</td><td>{@code stop}, {@code length}, {@code cancelled} or
 *       {@code error} or {@code tool_calls}; only stop and length enter later prompts</td><td>null</td></tr>
 *   <tr><td>{@code tokens}</td><td>int</td><td>the reply's tokens as counted for the window</td><td>0</td></tr>
 *   <tr><td>{@code prompt_tokens}</td><td>int</td><td>as the engine reported; -1 for a failed turn</td><td>-1</td></tr>
 *   <tr><td>{@code completion_tokens}</td><td>int</td><td>as the engine reported; -1 for a failed turn</td><td>-1</td></tr>
 *   <tr><td>{@code total_duration}</td><td>long</td><td>ns, as the engine reported (wall time for a failed turn)</td><td>0</td></tr>
 *   <tr><td>{@code load_duration}</td><td>long</td><td>ns, as the engine reported</td><td>0</td></tr>
 *   <tr><td>{@code prompt_eval_duration}</td><td>long</td><td>ns, as the engine reported</td><td>0</td></tr>
 *   <tr><td>{@code eval_duration}</td><td>long</td><td>ns, as the engine reported</td><td>0</td></tr>
 *   <tr><td>{@code window}</td><td>object</td><td>the window the prompt was built in (below)</td><td>null</td></tr>
 *   <tr><td>{@code error}</td><td>string</td><td>present only when the turn failed: what went wrong</td><td>null</td></tr>
 *   <tr><td>{@code tool_calls}</td><td>array of object</td><td>present only when the reply called tools:
 *       {@code {id, name, arguments}} each (arguments as JSON object text), in order; finish reason
 *       {@code tool_calls}</td><td>[]</td></tr>
 *   <tr><td rowspan="5">SUMMARY_REFRESH (internal)<br>{@link io.streamingllm.core.session.payload.SummaryRefresh}</td>
 *       <td>{@code summary_ref}</td><td>string</td><td>SHA-256 hex of the new summary, as in its file</td><td>null</td></tr>
 *   <tr><td>{@code evicted_event_ids}</td><td>array of string</td><td>USER_MESSAGE ids of the turns that left the
 *       window, oldest first; empty for an llm rewrite</td><td>[]</td></tr>
 *   <tr><td>{@code evicted_turns}</td><td>int</td><td>turns out of the window since the conversation began</td><td>-1</td></tr>
 *   <tr><td>{@code summary_tokens}</td><td>int</td><td>the summary's tokens</td><td>0</td></tr>
 *   <tr><td>{@code mode}</td><td>string</td><td>{@code extractive} (turns left the window) or {@code llm} (the model
 *       rewrote the summary)</td><td>null</td></tr>
 *   <tr><td rowspan="3">ERROR (internal)<br>{@link io.streamingllm.core.session.payload.TurnError}</td>
 *       <td>{@code message}</td><td>string</td><td>what went wrong and what to do</td><td>""</td></tr>
 *   <tr><td>{@code kind}</td><td>string</td><td>the engine failure's kind in lower case, e.g. {@code unreachable}</td><td>null</td></tr>
 *   <tr><td>{@code turn}</td><td>int</td><td>the failed turn's number</td><td>0</td></tr>
 *   <tr><td rowspan="5">{@code window} object<br>{@link io.streamingllm.core.session.payload.WindowState}</td>
 *       <td>{@code sink_tokens}</td><td>int</td><td>the agent's system prompt and context</td><td>0</td></tr>
 *   <tr><td>{@code summary_tokens}</td><td>int</td><td>the summary in the prompt</td><td>0</td></tr>
 *   <tr><td>{@code recall_tokens}</td><td>int</td><td>present only when turns were recalled: their tokens</td><td>0</td></tr>
 *   <tr><td>{@code recent_tokens}</td><td>int</td><td>the recent turns and the new message</td><td>0</td></tr>
 *   <tr><td>{@code evicted_turns}</td><td>int</td><td>turns out of the window so far</td><td>0</td></tr>
 * </table>
 *
 * <p>A turn logs USER_MESSAGE, then the SUMMARY_REFRESH of the turns it evicted (if any), then
 * ASSISTANT_MESSAGE and, when it failed, ERROR; an llm rewrite logs its SUMMARY_REFRESH after the turn.
 */
package io.streamingllm.core.session.payload;
