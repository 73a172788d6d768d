package io.streamingllm.core.engine.pool;

/**
 * What a pool reports about its placement and health. Called on the threads that place turns and run probes; must
 * return quickly.
 */
public interface PoolListener {
    /** Conversation (or prompt prefix) {@code key} went to {@code to}, not to {@code from} that had its last turn. */
    void moved(String key, String from, String to, String why);

    /** A turn failed on {@code from} before its first token and was sent again, to {@code to}. */
    void retried(String key, String from, String to, String why);

    /** {@code upstream} was taken out; probes bring it back. */
    void down(String upstream, String why);

    /** A probe found {@code upstream} ready again. */
    void up(String upstream);

    /** One log line per report, on the {@code io.streamingllm.core.engine.pool} logger. */
    static PoolListener logging() {
        System.Logger log = System.getLogger(UpstreamPool.class.getPackageName());
        return new PoolListener() {
            @Override
            public void moved(String key, String from, String to, String why) {
                log.log(System.Logger.Level.INFO, "upstream pool: " + key + " moved from " + from + " to " + to
                        + " (" + why + ")");
            }

            @Override
            public void retried(String key, String from, String to, String why) {
                log.log(System.Logger.Level.WARNING, "upstream pool: turn of " + key + " failed on " + from
                        + " before its first token (" + why + "); retried on " + to);
            }

            @Override
            public void down(String upstream, String why) {
                log.log(System.Logger.Level.WARNING, "upstream pool: " + upstream + " taken out: " + why);
            }

            @Override
            public void up(String upstream) {
                log.log(System.Logger.Level.INFO, "upstream pool: " + upstream + " is back");
            }
        };
    }
}
