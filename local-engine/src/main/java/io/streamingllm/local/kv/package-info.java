/**
 * Conversations' KV caches on disk, so that a conversation that left memory, or any conversation after a
 * restart, continues without re-prefilling its window.
 *
 * <table>
 * <caption>The package's classes</caption>
 * <tr><th>class</th><th>what it is</th></tr>
 * <tr><td>{@link io.streamingllm.local.kv.KvFile}</td><td>the file format (a table in its javadoc): header,
 *     dialogue, token ids, positions, keys and values, CRC32C</td></tr>
 * <tr><td>{@link io.streamingllm.local.kv.KvStore}</td><td>the directory {@code DATA_DIR/kv}: atomic saves
 *     (temp + force + rename), loads that refuse any mismatch with one log line, the disk budget (least
 *     recently used deleted first), id validation</td></tr>
 * <tr><td>{@link io.streamingllm.local.kv.ModelFingerprint}</td><td>the model file a cache belongs to</td></tr>
 * <tr><td>{@link io.streamingllm.local.kv.SessionImage}</td><td>a session as saved: cache, dialogue, the
 *     answer token not yet fed</td></tr>
 * </table>
 *
 * <p>A file is used only when its format, engine revision, model fingerprint, cache shape (layers, kvDim,
 * START/RECENT sizes) and conversation id all match and its checksum holds; otherwise the turn prefills.
 * Threads: the engine's worker loads, a writer thread of the engine saves ({@code SavedSessions} in the root
 * package decides when); {@link io.streamingllm.local.kv.KvStore} is thread-safe.
 */
package io.streamingllm.local.kv;
