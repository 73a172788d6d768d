/**
 * Pure-Java GGUF inference (llama, qwen2) with a StreamingLLM attention-sink KV cache, served as a
 * {@link io.streamingllm.core.engine.ModelEngine} by {@link io.streamingllm.local.LocalEngine}.
 *
 * <table>
 * <caption>The engine's classes</caption>
 * <tr><th>class</th><th>what it is</th></tr>
 * <tr><td>{@link io.streamingllm.local.LocalEngine}</td><td>the public engine: opening, health, token
 *     counting, queueing generations and session requests on its worker</td></tr>
 * <tr><td>{@link io.streamingllm.local.OllamaStore}</td><td>an {@code ollama-store:NAME[:TAG]} name → the
 *     GGUF blob Ollama pulled</td></tr>
 * <tr><td>{@code ChatModel}</td><td>a model file opened for chat: model, tokenizer, chat template, load time</td></tr>
 * <tr><td>{@code Sessions}, {@code Session}</td><td>the conversations' KV caches kept between turns, and
 *     how a turn continues, ends or is undone in one</td></tr>
 * <tr><td>{@code SavedSessions}</td><td>when sessions are saved to and restored from {@code DATA_DIR/kv}
 *     (package {@code kv})</td></tr>
 * <tr><td>{@code LocalGeneration}</td><td>one generation as its caller sees it: request, cancel flag, result</td></tr>
 * <tr><td>{@code GenerationLoop}</td><td>prefill, then sample (masked by a {@link io.streamingllm.local.json.JsonConstraint}
 *     when a JSON format is asked for), decode, stop-check and forward token by token</td></tr>
 * <tr><td>{@code StopMatcher}, {@code ListenerFailure}</td><td>stop strings over the streamed text; a
 *     listener's failure told apart from the engine's</td></tr>
 * </table>
 *
 * <h2>Threading</h2>
 * <ul>
 * <li><b>One worker thread per engine</b> ({@code local-engine-MODEL}, a daemon) runs every generation,
 *     one at a time in the order they were queued, and every session request ({@code endSession},
 *     {@code session}). The model's scratch buffers, the sessions and their KV caches are confined to
 *     it, so nothing there is locked.</li>
 * <li>The forward pass splits its matrix products and attention heads between the worker and the model's
 *     {@link io.streamingllm.local.tensor.MatMul} helper threads ({@code threads - 1} of them, daemons
 *     {@code matmul-N-I} that spin briefly between products, then park) and waits for them; an
 *     {@link io.streamingllm.local.model.Transformer.AttentionProbe} is called on the worker and on those
 *     helpers (on the worker alone when a product is too small to split).</li>
 * <li>{@code generate} never blocks: it queues the generation and returns its handle (a closed engine
 *     fails it at once).</li>
 * <li><b>The {@link io.streamingllm.core.engine.TokenListener} is called on the worker thread</b>,
 *     between tokens: while it runs no token is computed for anyone, so it must not block (hand the text
 *     to a queue). If it throws, the generation fails with {@code EngineException} INTERNAL and its
 *     session's cache is rolled back.</li>
 * <li>The result future completes on the worker thread too: stages chained to it without an executor
 *     run there, ahead of the next generation.</li>
 * <li><b>One KV writer thread per engine</b> ({@code local-engine-kv-MODEL}, a daemon) saves sessions after
 *     their turns, reading a session's cache only while the worker leaves it alone: a turn starting on a
 *     session whose save is queued withdraws it, one whose save is being written waits for that write.</li>
 * <li>{@code cancel()} may come from any thread: a flag the worker reads before the prefill and before
 *     each token (a running prefill finishes first).</li>
 * <li>{@code session(key)} blocks its caller until the worker has run what was queued before it.</li>
 * <li>{@code close()} fails the queued generations ("local engine is closed"), cancels the running one and
 *     waits up to 30 s for the worker, then for the queued KV saves, before unmapping the model; no caller is
 *     left waiting.</li>
 * </ul>
 */
package io.streamingllm.local;
