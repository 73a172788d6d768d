package io.streamingllm.core.recall;

import java.util.List;

/**
 * The hits of a search, best first.
 *
 * @param indexing true while the index is still catching up with the log: older messages may be missing
 */
public record SearchResult(List<SearchHit> hits, boolean indexing) {
    public SearchResult {
        hits = List.copyOf(hits);
    }
}
