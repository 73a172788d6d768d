package io.streamingllm.core.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The records the whole process logs at INFO and above while it is open (System.Logger and JUL both end in JUL's
 * root logger), for tests that check what a server writes to its log: one line per event, never a stack trace.
 *
 * <p>Thread-safe: records arrive on any thread; the test reads and waits on its own.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger root = Logger.getLogger("");
    private final Level before;
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (records) {
                records.add(r);
                records.notifyAll();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private LogCapture() {
        before = root.getLevel();
        root.setLevel(Level.INFO);
        root.addHandler(handler);
    }

    public static LogCapture start() {
        return new LogCapture();
    }

    /** What was logged so far. */
    public List<LogRecord> records() {
        synchronized (records) {
            return List.copyOf(records);
        }
    }

    /** The records that carry an exception (a log line with a stack trace), as level, message and exception. */
    public List<String> stackTraces() {
        return records().stream().filter(r -> r.getThrown() != null)
                .map(r -> r.getLevel() + " " + r.getMessage() + " " + r.getThrown()).toList();
    }

    /** How many records so far have a message that contains {@code text}. */
    public long count(String text) {
        return records().stream().filter(r -> String.valueOf(r.getMessage()).contains(text)).count();
    }

    /** Waits until a record with a message that contains {@code text} is logged; false if none came in time. */
    public boolean await(String text, Duration timeout) throws InterruptedException {
        Predicate<LogRecord> match = r -> String.valueOf(r.getMessage()).contains(text);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (records) {
            while (records.stream().noneMatch(match)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(records, left);
            }
            return true;
        }
    }

    @Override
    public void close() {
        root.removeHandler(handler);
        root.setLevel(before);
    }
}
