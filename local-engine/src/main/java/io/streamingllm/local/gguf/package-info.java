/**
 * Reads GGUF files (versions 2 and 3), memory-mapped read-only: {@link io.streamingllm.local.gguf.GgufFile}
 * parses the header, metadata and tensor infos at open and leaves tensor data in the mapping. All
 * integers are little-endian; a string is a uint64 byte length and UTF-8 bytes.
 *
 * <table>
 * <caption>GGUF file layout</caption>
 * <tr><th>part</th><th>encoding</th></tr>
 * <tr><td>magic</td><td>uint32 {@code 0x46554747} ("GGUF")</td></tr>
 * <tr><td>version</td><td>uint32, 2 or 3</td></tr>
 * <tr><td>tensor count, metadata count</td><td>uint64 each</td></tr>
 * <tr><td>metadata, × count</td><td>key (string), value type (uint32), value (scalar, string, or
 *     array: element type uint32, uint64 length, elements)</td></tr>
 * <tr><td>tensor infos, × count</td><td>name (string), dimensions (uint32, 1 to 4), each dimension
 *     (uint64, innermost first), {@link io.streamingllm.local.gguf.GgmlType} id (uint32), data offset
 *     (uint64, from the start of the data, a multiple of the alignment)</td></tr>
 * <tr><td>padding</td><td>to {@code general.alignment} (default 32)</td></tr>
 * <tr><td>tensor data</td><td>each tensor in its type's blocks, at its offset</td></tr>
 * </table>
 *
 * <p>An open file is immutable and safe to share between threads until it is closed.
 */
package io.streamingllm.local.gguf;
