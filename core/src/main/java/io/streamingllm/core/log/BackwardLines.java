package io.streamingllm.core.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Walks a file's newline-terminated lines from the end towards the start through a read-back window, so that the
 * last lines of a long log cost what they weigh, not what the file weighs. One thread.
 */
final class BackwardLines {
    private static final int WINDOW = 64 * 1024;
    private final FileChannel ch;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
    private long windowStart = -1;
    private int windowLength;
    private final long size;
    /** Position just after the newline that ends the next line {@link #previous} returns. */
    private long pos;

    BackwardLines(FileChannel ch, long size) throws IOException {
        this.ch = ch;
        this.size = size;
        this.pos = endOfLastCompleteLine();
    }

    /** The last {@code limit} events of the file (chronological; lines that do not parse are skipped). */
    static List<Event> lastEvents(Path file, int limit) {
        List<Event> newestFirst = new ArrayList<>(Math.min(limit, 1024));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            BackwardLines lines = new BackwardLines(ch, ch.size());
            byte[] line;
            while (newestFirst.size() < limit && (line = lines.previous()) != null) {
                Event e = EventCodec.fromLineOrSkip(line, file);
                if (e != null) {
                    newestFirst.add(e);
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Collections.reverse(newestFirst);
        return newestFirst;
    }

    /** Position after the file's last newline (0 when there is none). */
    long endOfLastCompleteLine() throws IOException {
        return lastNewlineBefore(size) + 1;
    }

    long position() {
        return pos;
    }

    /** The line before the current position without its newline, or null at the start of the file. */
    byte[] previous() throws IOException {
        if (pos == 0) {
            return null;
        }
        long newline = pos - 1;
        long start = lastNewlineBefore(newline) + 1;
        byte[] line = new byte[Math.toIntExact(newline - start)];
        if (start >= windowStart && newline <= windowStart + windowLength) {
            // the search just loaded it: no second read
            System.arraycopy(window.array(), (int) (start - windowStart), line, 0, line.length);
        } else {
            ByteBuffer dst = ByteBuffer.wrap(line);
            while (dst.hasRemaining()) {
                if (ch.read(dst, start + dst.position()) < 0) {
                    throw new IOException("file shrank while reading");
                }
            }
        }
        pos = start;
        return line;
    }

    /** Index of the last newline strictly before {@code end}, or -1. */
    private long lastNewlineBefore(long end) throws IOException {
        long i = end - 1;
        while (i >= 0) {
            if (i < windowStart || i >= windowStart + windowLength) {
                load(i);
            }
            int off = (int) (i - windowStart);
            byte[] a = window.array();
            while (off >= 0 && a[off] != '\n') {
                off--;
            }
            if (off >= 0) {
                return windowStart + off;
            }
            i = windowStart - 1;
        }
        return -1;
    }

    /** Loads the window so that it ends just after {@code index}. */
    private void load(long index) throws IOException {
        long start = Math.max(0, index + 1 - WINDOW);
        window.clear();
        window.limit((int) (index + 1 - start));
        while (window.hasRemaining()) {
            if (ch.read(window, start + window.position()) < 0) {
                break;
            }
        }
        windowStart = start;
        windowLength = window.position();
    }
}
