/**
 * Summaries on disk. A conversation's rolling summary is made in {@link io.streamingllm.core.session} (folded
 * from the turns that leave the window, or rewritten by the model) and stored here, one file a conversation,
 * written whole through a temporary file, fsync and an atomic rename:
 *
 * <table>
 *   <caption>{@code SUMMARY_DIR/{conversation_id}.md}</caption>
 *   <tr><th>part</th><th>content</th></tr>
 *   <tr><td>first line</td><td>{@code <!-- summary_ref:SHA256 -->}: the lowercase hex SHA-256 of the content's
 *       UTF-8 bytes, the {@code summary_ref} that the conversation's SUMMARY_REFRESH events name</td></tr>
 *   <tr><td>the rest</td><td>the summary, markdown</td></tr>
 * </table>
 *
 * A file whose content does not hash to its header was edited: reading it throws
 * {@link io.streamingllm.core.summary.TamperedSummaryException} (the session then rebuilds the summary from the
 * log). Archiving moves the file to the archive directory, never replacing an earlier archive.
 * {@link io.streamingllm.core.summary.SummaryStore#rollingSummary} is another, deterministic summary of any list
 * of events, grouped by type.
 */
package io.streamingllm.core.summary;
