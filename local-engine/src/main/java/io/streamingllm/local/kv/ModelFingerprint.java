package io.streamingllm.local.kv;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A SHA-256 fingerprint of a model file that a saved KV cache is tied to, computed from about 17 MiB of it
 * rather than the whole file (a model can be tens of GiB): its size, its first 16 MiB (the GGUF header,
 * metadata, tensor infos and more) and 256 evenly spaced 4 KiB samples plus its last 4 KiB. Another model,
 * another quantisation or another fine-tune of the same architecture differs in those bytes.
 */
public final class ModelFingerprint {
    private static final int HEAD = 16 << 20;
    private static final int SAMPLE = 4096;
    private static final int SAMPLES = 256;

    private ModelFingerprint() {
    }

    public static byte[] of(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            sha.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, size));
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            digest(ch, sha, buf, 0, Math.min(size, HEAD));
            if (size > HEAD) {
                for (int i = 0; i < SAMPLES; i++) {
                    long at = HEAD + (size - HEAD) / SAMPLES * i;
                    digest(ch, sha, buf, at, Math.min(SAMPLE, size - at));
                }
                digest(ch, sha, buf, Math.max(HEAD, size - SAMPLE), Math.min(SAMPLE, size - HEAD));
            }
            return sha.digest();
        }
    }

    private static void digest(FileChannel ch, MessageDigest sha, ByteBuffer buf, long from, long length) throws IOException {
        long at = from;
        long end = from + length;
        while (at < end) {
            buf.clear().limit((int) Math.min(buf.capacity(), end - at));
            int n = ch.read(buf, at);
            if (n < 0) {
                throw new IOException("model file shrank while reading it");
            }
            buf.flip();
            sha.update(buf);
            at += n;
        }
    }
}
