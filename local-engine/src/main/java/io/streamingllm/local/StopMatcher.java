package io.streamingllm.local;

import io.streamingllm.core.engine.TokenListener;
import java.util.List;

/**
 * Accumulates generated text and forwards it to the listener, holding back any tail that could be the
 * start of a stop string; on a stop string the text ends just before it. One per generation.
 */
final class StopMatcher {
    private final List<String> stops;
    private final int maxStopLength;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        this.maxStopLength = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /**
     * Adds a delta; true when a stop string completed (the text is then cut before it). A listener
     * failure comes out as {@link ListenerFailure}.
     */
    boolean append(String delta, TokenListener listener) {
        if (stopped || delta.isEmpty()) {
            return stopped;
        }
        int searchFrom = Math.max(0, emitted - maxStopLength);
        text.append(delta);
        int cut = -1;
        for (String s : stops) {
            int i = text.indexOf(s, searchFrom);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            text.setLength(cut);
            stopped = true;
            emit(cut, listener);
            return true;
        }
        emit(text.length() - heldBack(), listener);
        return false;
    }

    /** Forwards what was held back: the generation ended without completing a stop string. */
    void flush(TokenListener listener) {
        emit(text.length(), listener);
    }

    boolean stopped() {
        return stopped;
    }

    String text() {
        return text.toString();
    }

    private void emit(int upTo, TokenListener listener) {
        if (upTo > emitted) {
            String delta = text.substring(emitted, upTo);
            emitted = upTo;
            try {
                listener.onToken(delta);
            } catch (RuntimeException e) {
                throw new ListenerFailure(e);
            }
        }
    }

    /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > best; k--) {
                if (endsWith(s, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWith(String s, int k) {
        int off = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(off + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
