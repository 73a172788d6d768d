package io.streamingllm.core.log;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * A preallocated journal segment file in use. The committer owns it until it seals it; the checkpointer owns it
 * after (the hand-off goes through the journal's lock).
 */
final class JournalSegment {
    final Path path;
    final FileChannel channel;
    final long size;
    /** Where the next record goes. */
    long position;
    /** Conversations whose files the segment's records wrote to: what its checkpoint forces. */
    final Set<String> conversations = new HashSet<>();

    JournalSegment(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    void closeQuietly() {
        ChannelIo.closeQuietly(channel);
    }
}
