/**
 * Recall: a Lucene (BM25) full-text index over the conversations' logs, kept up to date from the session after
 * each append and caught up from the log at start-up ({@link io.streamingllm.core.recall.RecallIndex}). It answers
 * the search routes and gives the prompt its recalled turns through
 * {@link io.streamingllm.core.session.ConversationIndex}. The log stays the source of truth: the index can be
 * deleted at any time and is rebuilt from it.
 */
package io.streamingllm.core.recall;
