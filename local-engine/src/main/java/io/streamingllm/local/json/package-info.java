/**
 * JSON-constrained decoding: {@code format: "json"} / {@code response_format: json_object} (any object) and
 * simple JSON schemas ({@link io.streamingllm.local.json.SchemaCompiler} lists what is enforced and what is
 * refused with a 400).
 *
 * <table>
 * <caption>The package's classes</caption>
 * <tr><th>class</th><th>what it is</th></tr>
 * <tr><td>{@link io.streamingllm.local.json.JsonMode}</td><td>per model: a format → a constraint for one
 *     generation; refusals as {@link java.lang.IllegalArgumentException}</td></tr>
 * <tr><td>{@link io.streamingllm.local.json.JsonConstraint}</td><td>per generation: the vocabulary mask before
 *     each token (validity and steering to close in time), the token read after</td></tr>
 * <tr><td>{@code SchemaCompiler}, {@code JsonGrammar}</td><td>schema → grammar nodes, key and literal byte
 *     tries, the fewest bytes that complete each part</td></tr>
 * <tr><td>{@code JsonMachine}</td><td>the pushdown automaton over bytes (state as an {@code int[]}) and its
 *     cost to completion</td></tr>
 * <tr><td>{@code TokenTrie}</td><td>the vocabulary's per-token bytes as a trie, built once per model</td></tr>
 * </table>
 *
 * <p>Steering: every byte of a shortest completion is one token (the vocabulary must have one-byte tokens for
 * printable ASCII and the schema's literal bytes), so the bytes still needed bound the tokens still needed; a
 * token is allowed only if what it leaves fits the tokens left after it. Hence a value that fits
 * {@code max_new_tokens} at the start always closes before the budget runs out.
 *
 * <p>Threads: everything per generation runs on the engine's worker; {@code JsonMode} builds its trie once
 * under a lock (the request thread's {@code requireSupported} may be first).
 */
package io.streamingllm.local.json;
