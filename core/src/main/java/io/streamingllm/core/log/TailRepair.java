package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.OffCarrier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Cuts what a crash left at the end of a conversation's live log, keeping it in {@code {id}.jsonl.corrupt}: nothing
 * cut from a live log is ever lost. Callers hold the conversation's lock (or run before anything else opens the
 * files, as replay does).
 */
final class TailRepair {
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final LogLayout layout;

    TailRepair(LogLayout layout) {
        this.layout = layout;
    }

    /**
     * Moves a torn tail into {@code {id}.jsonl.corrupt} (forced) and only then truncates the live file to the
     * end of its last good line: bytes after the last newline, and a last line that does not parse. False when the
     * conversation has no log (yet), which spares a new conversation's first read the failed open of its file.
     */
    boolean repair(String id) throws IOException {
        Path file = layout.file(id);
        if (!Files.isRegularFile(file)) {
            return false; // a new conversation: nothing to hand to another thread
        }
        OffCarrier.run(() -> {
            repairExisting(id, file);
            return null;
        });
        return true;
    }

    private void repairExisting(String id, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size == 0) {
                return;
            }
            BackwardLines lines = new BackwardLines(ch, size);
            long cut = lines.endOfLastCompleteLine();
            long goodEnd = cut;
            byte[] last = lines.previous();
            if (last != null && !parses(last)) {
                cut = lines.position();
            }
            if (cut == size) {
                return;
            }
            moveToCorrupt(id, ch, cut, size);
            ch.truncate(cut);
            ch.force(true);
            LOG.log(System.Logger.Level.WARNING, "event log {0}: moved a torn tail of {1} bytes ({2}) to {3}",
                    file, size - cut, goodEnd == size ? "last line does not parse" : "no trailing newline",
                    id + LogLayout.CORRUPT_SUFFIX);
        }
    }

    /**
     * Appends the bytes {@code [from, to)} of a conversation's file to its {@code .corrupt} file (with a newline
     * when they lack one) and forces it and the directory. The caller cuts them from the live file after.
     */
    void moveToCorrupt(String id, FileChannel ch, long from, long to) throws IOException {
        Path corrupt = layout.corruptFile(id);
        try (FileChannel out = FileChannel.open(corrupt, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            for (long at = from; at < to; ) {
                long n = ch.transferTo(at, to - at, out);
                if (n <= 0) {
                    throw new IOException("cannot copy bytes " + at + ".." + to + " of " + id + LogLayout.SUFFIX
                            + " to " + corrupt);
                }
                at += n;
            }
            if (ChannelIo.readAt(ch, to - 1, 1)[0] != '\n') {
                ByteBuffer newline = ByteBuffer.wrap(new byte[]{'\n'});
                while (newline.hasRemaining()) {
                    out.write(newline);
                }
            }
            out.force(true);
        }
        AtomicFiles.syncDirectory(layout.dir());
    }

    private static boolean parses(byte[] line) {
        try {
            EventCodec.fromLine(line);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
