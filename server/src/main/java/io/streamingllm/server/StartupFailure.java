package io.streamingllm.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Why the sidecar could not start, as the one line {@link Main} prints before it exits non-zero. Helidon reports a
 * port it cannot bind by logging a stack trace and carrying on with port -1; the sidecar makes that a failure of
 * its own, with the reason the operating system gave.
 */
final class StartupFailure extends RuntimeException {
    /**
     * Helidon's loggers that report a failed start with a stack trace, or chat at INFO when the server starts; kept
     * here so that the levels set on them are not lost when the loggers are collected.
     */
    private static final Logger[] QUIETED = {
            Logger.getLogger("io.helidon.webserver.LoomServer"),
            Logger.getLogger("io.helidon.common.features.HelidonFeatures"),
            // the search index: Lucene says at INFO which vector implementation it picked when it first opens one
            Logger.getLogger("org.apache.lucene.internal.vectorization"),
    };

    StartupFailure(String message) {
        super(message, null, false, false);
    }

    /**
     * Silences Helidon's start-up reports (the start failure is reported once, by {@link Main}); the web server's
     * other loggers keep their levels.
     */
    static void quietHelidonStartup() {
        QUIETED[0].setLevel(Level.OFF);
        QUIETED[1].setLevel(Level.WARNING);
        QUIETED[2].setLevel(Level.WARNING);
    }

    /** Once started, Helidon's web server logs as configured again (its start-up chatter stays quiet). */
    static void helidonStarted() {
        QUIETED[0].setLevel(null);
    }

    /** The port could not be bound: the reason, found by binding it the way Helidon does. */
    static StartupFailure cannotListen(String host, int port) {
        String reason = "the web server did not start";
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            reason = e.getMessage();
        } catch (IOException | RuntimeException e) {
            reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new StartupFailure("cannot listen on " + host + ":" + port + ": " + reason);
    }

    /** One line for any failure of start-up: the message, with the I/O cause's when it adds something. */
    static String oneLine(Throwable t) {
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof UncheckedIOException io && io.getCause() != null && io.getCause().getMessage() != null
                && !message.contains(io.getCause().getMessage())) {
            message += ": " + io.getCause().getMessage();
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
