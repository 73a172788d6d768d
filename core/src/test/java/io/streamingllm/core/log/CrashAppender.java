package io.streamingllm.core.log;

import jakarta.json.Json;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Child process of {@link EventLogCrashTest}: appends to one conversation from a few threads until killed,
 * printing each event id to stdout only after {@link EventLog#append} has returned (i.e. acknowledged).
 * Args: logDir conversationId threads [journal segment bytes].
 */
public final class CrashAppender {
    private CrashAppender() {
    }

    public static void main(String[] args) {
        long segmentSize = args.length > 3 ? Long.parseLong(args[3]) : Journal.DEFAULT_SEGMENT_SIZE;
        EventLog log = new EventLog(Path.of(args[0]), EventLog.DEFAULT_MAX_OPEN_FILES, segmentSize);
        String conversation = args[1];
        int threads = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().start(() -> {
                for (long i = 0; ; i++) {
                    // sizes up to ~12 KiB, so a kill can land in the middle of a multi-page write
                    int size = ThreadLocalRandom.current().nextInt(10, 12_000);
                    Event e = Event.create(conversation, EventType.USER_MESSAGE, Visibility.USER,
                            Json.createObjectBuilder().add("content", thread + ":" + i + ":" + "x".repeat(size)).build());
                    log.append(e);
                    synchronized (out) {
                        out.println(e.id());
                    }
                }
            });
        }
    }
}
