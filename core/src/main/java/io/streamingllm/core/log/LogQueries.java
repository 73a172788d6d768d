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
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Queries straight from the files, with bounded memory: pages ({@link EventPager}), the {@link #since} stream
 * read a page at a time, and the by-type stream read one file at a time. They take no lock: a line being written
 * is not read until its newline is there. Safe from any thread.
 */
final class LogQueries {
    /** Events per page of the {@link #since} stream. */
    private static final int STREAM_PAGE = 1_000;

    private final LogLayout layout;
    private final EventPager pager;

    LogQueries(LogLayout layout) {
        this.layout = layout;
        this.pager = new EventPager(layout);
    }

    /** See {@link EventLog#query(EventQuery)}. */
    EventPage page(EventQuery q) {
        return pager.page(conversationIds(), q);
    }

    /** See {@link EventLog#query(String, EventQuery)}. */
    EventPage page(String conversationId, EventQuery q) {
        return pager.page(conversationId, q);
    }

    /** See {@link EventLog#since}: pages of {@value #STREAM_PAGE}, each going on after the last one's last id. */
    Stream<Event> since(Instant instant) {
        Iterator<Event> events = new Iterator<>() {
            private EventQuery next = new EventQuery(instant, null, null, Set.of(), null, STREAM_PAGE);
            private Iterator<Event> page = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!page.hasNext() && next != null) {
                    EventPage p = page(next);
                    page = p.events().iterator();
                    next = p.hasMore() && !p.events().isEmpty()
                            ? next.withAfter(p.events().get(p.events().size() - 1).id()) : null;
                }
                return page.hasNext();
            }

            @Override
            public Event next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.next();
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
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
