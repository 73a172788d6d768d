/**
 * The sidecar server: Helidon SE over {@code core}. {@link io.streamingllm.server.Main} reads the configuration,
 * wires the services and holds the route table, every path the sidecar serves in one place;
 * {@link io.streamingllm.server.SidecarServer} runs them and stops them in order. Each feature is an
 * {@code HttpService} in a package of its own, mounted at its path.
 *
 * <h2>Threading</h2>
 * <table>
 *   <caption>The threads of a running sidecar, and what each may do</caption>
 *   <tr><th>thread</th><th>runs</th><th>may block</th></tr>
 *   <tr><td>Helidon's connection thread (virtual, one per connection)</td>
 *       <td>filters and handlers of the connection's requests; for a streamed HTTP turn the handler stays to
 *           write it ({@link io.streamingllm.server.stream.TurnStreamer#stream}); for a WebSocket, the
 *           listener's callbacks (a client frame starts a turn)</td>
 *       <td>yes: waiting for tokens, writing to a slow client, {@code ChatService.startTurn} (which may wait for
 *           the conversation's summary rewrite)</td></tr>
 *   <tr><td>{@code ws-writer} (virtual, one per WebSocket)</td>
 *       <td>drains the connection's {@link io.streamingllm.server.stream.TokenOutbox}: frames, pings, the close</td>
 *       <td>yes: on the socket</td></tr>
 *   <tr><td>{@code ws-watch} (virtual, one per WebSocket)</td>
 *       <td>waits for the connection's thread to end, then cancels the connection's turns (Helidon reports a
 *           close frame, not a dropped connection)</td>
 *       <td>yes: that is all it does</td></tr>
 *   <tr><td>the engine's thread: echo, a virtual thread per generation; local, the engine's one worker;
 *           Ollama and OpenAI-compatible, a virtual thread per call reading its response (https upstreams: the JDK
 *           HTTP client's selector thread, one for all streams)</td>
 *       <td>{@code TokenListener.onToken}: here {@link io.streamingllm.server.metrics.TurnMeter} counts and the
 *           stream's listener enqueues to its outbox</td>
 *       <td>never: a listener that waited would stall its upstream's stream (over https, every stream of the engine); a client that falls
 *           {@code bufferedTokens} behind has its turn cancelled instead</td></tr>
 *   <tr><td>the thread completing {@code Turn.result()}: the chat service's background virtual threads for a
 *           logged turn, the engine's for an unlogged Ollama call</td>
 *       <td>callbacks on the result: metrics, the done or error record enqueued, the outbox closed</td>
 *       <td>no: callbacks only count and enqueue</td></tr>
 *   <tr><td>the event log's commit thread</td>
 *       <td>the fsync-latency callback ({@code EventLog.onFsync}) into the metrics</td>
 *       <td>no</td></tr>
 * </table>
 *
 * <p>Shared by all threads and safe for it: the chat service, the event log, the engine gate, the metrics
 * (lock-free). One per turn or per connection: the outboxes and their writers.
 *
 * <h2>Durability during a turn</h2>
 * A turn's tokens are relayed as the engine produces them and are not durable yet. {@code Turn.result()}
 * completes once the turn's events (the user's message, the assistant's reply, any summary refresh) are fsynced
 * to the log; only then is its {@code done} sent (WebSocket frame, SSE or NDJSON record, Ollama's final record
 * or whole answer), so what a client saw acknowledged survives a crash. A turn that fails is logged too, with
 * its partial reply, before its error record is sent; a client that falls behind gets its error at once and its
 * turn, cancelled, is logged after. An Ollama or OpenAI call without {@code X-Conversation-Id} is not logged: its
 * {@code done} follows the end of the generation.
 */
package io.streamingllm.server;
