package io.streamingllm.store.postgres;

/** The PostgreSQL store cannot do what was asked (unreachable, refused, schema newer than this sidecar); one line. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }

    /** The innermost message of a failure, on one line: what the driver or the server said. */
    static String reason(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        if (t != root && t.getMessage() != null && !t.getMessage().contains(m) && t instanceof java.sql.SQLException) {
            m = t.getMessage();
        }
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).strip();
    }
}
