package io.streamingllm.core.summary;

/** A summary file whose content does not match its {@code summary_ref} header. */
public final class TamperedSummaryException extends RuntimeException {
    public TamperedSummaryException(String message) {
        super(message);
    }
}
