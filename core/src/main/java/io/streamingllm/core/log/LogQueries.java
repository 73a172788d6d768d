package io.streamingllm.core.log;

import io.streamingllm.core.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Queries across conversations, straight from the files (one open at a time, memory holding only what matches).
 * They take no lock: a line being written is not read until its newline is there. Safe from any thread.
 */
final class LogQueries {
    /** File mtimes come from a coarse kernel clock; don't let it hide events from {@link #since}. */
    private static final long MTIME_SLACK_MS = 2_000;

    private final LogLayout layout;

    LogQueries(LogLayout layout) {
        this.layout = layout;
    }

    /** See {@link EventLog#since}. */
    Stream<Event> since(Instant instant) {
        List<Event> found = new ArrayList<>();
        long cutoff = instant.toEpochMilli() - MTIME_SLACK_MS;
        for (String id : conversationIds()) {
            Path file = layout.file(id);
            try {
                if (Files.getLastModifiedTime(file).toMillis() < cutoff) {
                    continue;
                }
            } catch (IOException e) {
                continue; // archived meanwhile
            }
            try (Stream<Event> events = ForwardLines.events(file)) {
                events.filter(e -> !e.timestamp().isBefore(instant)).forEach(found::add);
            }
        }
        found.sort(Comparator.comparing(Event::timestamp));
        return found.stream();
    }

    /** See {@link EventLog#byType}. */
    Stream<Event> byType(Set<EventType> types, Visibility visibility) {
        boolean anyType = types == null || types.isEmpty();
        return conversationIds().stream()
                .flatMap(id -> ForwardLines.events(layout.file(id)))
                .filter(e -> (anyType || types.contains(e.type())) && (visibility == null || e.visibility() == visibility));
    }

    /** See {@link EventLog#conversationIds}. */
    List<String> conversationIds() {
        List<String> ids = new ArrayList<>();
        try (Stream<Path> files = Files.list(layout.dir())) {
            files.forEach(p -> {
                String name = p.getFileName().toString();
                if (name.endsWith(LogLayout.SUFFIX)) {
                    String id = name.substring(0, name.length() - LogLayout.SUFFIX.length());
                    if (Ids.isValid(id)) {
                        ids.add(id);
                    }
                }
            });
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + layout.dir() + ": " + e.getMessage(), e);
        }
        Collections.sort(ids);
        return ids;
    }
}
