package io.streamingllm.core.engine.http;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.channels.UnresolvedAddressException;

/** What a failed HTTP call to an upstream means to a user: never reached it, or lost it on the way. */
public final class TransportFailures {
    private TransportFailures() {
    }

    /** True when the upstream was never reached (refused, unknown host, connect timeout). */
    public static boolean isUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof UnresolvedAddressException || t instanceof HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** A short description for a message: {@code connection refused}, {@code unknown host}, or the cause's text. */
    public static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "connection refused";
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "connect timed out";
            }
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
