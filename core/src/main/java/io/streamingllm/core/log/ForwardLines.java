package io.streamingllm.core.log;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads a log file's events from the start (or its raw lines from any line start, {@link #readLine}), lazily, one
 * buffer at a time: lines that do not parse are skipped (with a warning), and an unterminated last fragment is not
 * a line (yet). One reader per stream, one thread.
 */
final class ForwardLines implements Iterator<Event> {
    private static final int BUFFER = 64 * 1024;

    private final Path file;
    private final InputStream in;
    private final byte[] buf = new byte[BUFFER];
    private int pos;
    private int len;
    private byte[] line = new byte[1024];
    private Event next;

    ForwardLines(Path file, InputStream in) {
        this.file = file;
        this.in = in;
    }

    /** The file's events in order (none when there is no file). Close the stream. */
    static Stream<Event> events(Path file) {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            return Stream.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ForwardLines lines = new ForwardLines(file, in);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(lines, Spliterator.ORDERED | Spliterator.NONNULL),
                        false)
                .onClose(() -> {
                    try {
                        in.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    @Override
    public boolean hasNext() {
        while (next == null) {
            byte[] l = readLine();
            if (l == null) {
                return false;
            }
            next = EventCodec.fromLineOrSkip(l, file);
        }
        return true;
    }

    @Override
    public Event next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Event e = next;
        next = null;
        return e;
    }

    /** The next newline-terminated line without its newline, or null at the end of the file. */
    byte[] readLine() {
        int n = 0;
        while (true) {
            if (pos == len) {
                try {
                    len = in.read(buf);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
                }
                pos = 0;
                if (len <= 0) {
                    len = 0;
                    return null; // a fragment without newline is a write in progress or a torn tail
                }
            }
            int start = pos;
            while (pos < len && buf[pos] != '\n') {
                pos++;
            }
            int chunk = pos - start;
            if (n + chunk > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, n + chunk));
            }
            System.arraycopy(buf, start, line, n, chunk);
            n += chunk;
            if (pos < len) {
                pos++; // the newline
                return Arrays.copyOf(line, n);
            }
        }
    }
}
