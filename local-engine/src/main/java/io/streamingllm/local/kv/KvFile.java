package io.streamingllm.local.kv;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.local.model.KvCache;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One saved session: a file under {@code DATA_DIR/kv/}, written whole and read whole. All numbers are
 * little-endian; H = held tokens = S + R; tokens, positions, keys and values are in cache order (sinks,
 * then recent tokens oldest first).
 *
 * <table>
 * <caption>The KV cache file, format 2 (format 1, still read, has no calls or tool-message fields)</caption>
 * <tr><th>bytes</th><th>field</th></tr>
 * <tr><td>4</td><td>magic {@code SLKV}</td></tr>
 * <tr><td>4</td><td>u32 format version (2)</td></tr>
 * <tr><td>4</td><td>u32 engine revision ({@link #ENGINE_REVISION}): how the forward pass computes keys and values</td></tr>
 * <tr><td>32</td><td>the model file's {@link ModelFingerprint}</td></tr>
 * <tr><td>4 × 4</td><td>u32 layers, u32 kvDim, u32 startSize, u32 recentSize of the cache</td></tr>
 * <tr><td>4 + 4 + 8</td><td>u32 S sinks held, u32 R recent tokens held, i64 tokens streamed through the cache</td></tr>
 * <tr><td>4</td><td>i32 the last answer token not yet fed, -1 if none</td></tr>
 * <tr><td>2 + k</td><td>u16 k, the conversation id in UTF-8</td></tr>
 * <tr><td>4</td><td>u32 m dialogue messages, then m × (u8 r, role wire name in r ASCII bytes, u32 n, content in n UTF-8 bytes,
 *     u32 c tool calls, c × (id, name, arguments), then the tool message's call id and tool name), each string an
 *     i32 n (-1: null) and n UTF-8 bytes</td></tr>
 * <tr><td>4 × H</td><td>i32 token ids</td></tr>
 * <tr><td>8 × H</td><td>i64 global positions (sink i at i, recent tokens consecutive up to streamed - 1)</td></tr>
 * <tr><td>layers × 2 × 4 × H × kvDim</td><td>per layer: f32 keys (rotated at their global positions), then f32 values</td></tr>
 * <tr><td>4</td><td>CRC32C of every byte before it</td></tr>
 * </table>
 *
 * <p>Writes go to {@code NAME.kv.tmp}, are forced to disk, then renamed over {@code NAME.kv} ({@link KvStore}).
 */
public final class KvFile {
    /**
     * Bump when the forward pass changes the keys or values it computes for the same model and tokens.
     * 2: activations quantised to 8-bit blocks and integer dots for the quantised types (the default kernels).
     */
    public static final int ENGINE_REVISION = 2;
    /**
     * 2: a dialogue message carries its tool calls (and a tool result its call id and tool name), so a session restored
     * after a restart still matches the reply whose calls the next turn answers; format 1 is read as messages without.
     */
    static final int FORMAT = 2;
    private static final int FORMAT_WITHOUT_CALLS = 1;
    private static final byte[] MAGIC = {'S', 'L', 'K', 'V'};
    private static final int FIXED_HEADER = 82;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_MESSAGES = 1 << 16;

    private KvFile() {
    }

    /** Writes {@code image} to {@code file} (created or truncated) and forces it to disk; returns its size. */
    static long write(Path file, byte[] fingerprint, SessionImage image) throws IOException {
        KvCache c = image.cache();
        int held = c.length();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Sink out = new Sink(ch);
            out.bytes(MAGIC);
            out.i32(FORMAT);
            out.i32(ENGINE_REVISION);
            out.bytes(fingerprint);
            out.i32(c.layers());
            out.i32(c.kvDim());
            out.i32(c.startSize());
            out.i32(c.recentSize());
            out.i32(c.sinkCount());
            out.i32(c.recentCount());
            out.i64(c.nextPosition());
            out.i32(image.pendingToken());
            byte[] key = image.key().getBytes(StandardCharsets.UTF_8);
            out.i16(key.length);
            out.bytes(key);
            out.i32(image.dialogue().size());
            for (ChatMessage m : image.dialogue()) {
                byte[] role = m.role().wireName().getBytes(StandardCharsets.US_ASCII);
                byte[] content = m.content().getBytes(StandardCharsets.UTF_8);
                out.i8(role.length);
                out.bytes(role);
                out.i32(content.length);
                out.bytes(content);
                out.i32(m.toolCalls().size());
                for (ToolCall call : m.toolCalls()) {
                    out.string(call.id());
                    out.string(call.name());
                    out.string(call.arguments());
                }
                out.string(m.toolCallId());
                out.string(m.toolName());
            }
            for (int i = 0; i < held; i++) {
                out.i32(c.tokenAt(i));
            }
            for (int i = 0; i < held; i++) {
                out.i64(c.positionAt(i));
            }
            int kvDim = c.kvDim();
            for (int l = 0; l < c.layers(); l++) {
                for (float[] a : new float[][] {c.keys(l), c.values(l)}) {
                    for (int i = 0; i < held; i++) {
                        out.floats(a, c.slot(i) * kvDim, kvDim);
                    }
                }
            }
            out.finish();
            ch.force(true);
            return ch.size();
        }
    }

    /**
     * Reads {@code file} into {@code fresh} (a cleared streaming cache of this engine's shape) and returns the
     * session it holds, after checking that it was written for this model, engine revision, cache shape and
     * {@code key}, and that its checksum holds; {@link KvFileException} saying which check failed.
     */
    static SessionImage read(Path file, byte[] fingerprint, String key, KvCache fresh) throws IOException, KvFileException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            if (size < FIXED_HEADER + 4) {
                throw KvFileException.corrupt("truncated: " + size + " bytes");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (!Arrays.equals(MAGIC, seg.asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE))) {
                throw KvFileException.corrupt("not a KV cache file");
            }
            int format = seg.get(I32, 4);
            if (format != FORMAT && format != FORMAT_WITHOUT_CALLS) {
                throw KvFileException.mismatch("file format " + format + ", this engine reads formats "
                        + FORMAT_WITHOUT_CALLS + " and " + FORMAT);
            }
            int revision = seg.get(I32, 8);
            if (revision != ENGINE_REVISION) {
                throw KvFileException.mismatch("computed by engine revision " + revision + ", this engine is revision "
                        + ENGINE_REVISION);
            }
            if (!Arrays.equals(fingerprint, seg.asSlice(12, 32).toArray(ValueLayout.JAVA_BYTE))) {
                throw KvFileException.mismatch("computed by another model file");
            }
            int layers = seg.get(I32, 44), kvDim = seg.get(I32, 48), start = seg.get(I32, 52), recent = seg.get(I32, 56);
            if (layers != fresh.layers() || kvDim != fresh.kvDim()) {
                throw KvFileException.mismatch("a cache of " + layers + " layers × " + kvDim + ", this model has "
                        + fresh.layers() + " × " + fresh.kvDim());
            }
            if (start != fresh.startSize() || recent != fresh.recentSize()) {
                throw KvFileException.mismatch("sinks + recent window of " + start + " + " + recent
                        + " tokens, the engine now keeps " + fresh.startSize() + " + " + fresh.recentSize());
            }
            if (crc(seg, size - 4) != seg.get(I32, size - 4)) {
                throw KvFileException.corrupt("corrupt: checksum mismatch");
            }
            return body(seg, size - 4, key, fresh, format);
        }
    }

    private static SessionImage body(MemorySegment seg, long end, String key, KvCache cache, int format)
            throws KvFileException {
        Cursor in = new Cursor(seg, 60, end);
        int sinks = in.i32(), recent = in.i32();
        long streamed = in.i64();
        int pending = in.i32();
        String savedKey = in.utf8(in.u16());
        if (!savedKey.equals(key)) {
            throw KvFileException.mismatch("saved for conversation " + savedKey);
        }
        int messages = in.i32();
        if (messages < 0 || messages > MAX_MESSAGES) {
            throw KvFileException.corrupt("corrupt: " + messages + " messages");
        }
        List<ChatMessage> dialogue = new ArrayList<>(messages);
        for (int i = 0; i < messages; i++) {
            String role = in.utf8(in.u8());
            try {
                ChatMessage.Role r = ChatMessage.Role.fromWire(role);
                String content = in.utf8(in.i32());
                if (format == FORMAT_WITHOUT_CALLS) {
                    dialogue.add(new ChatMessage(r, content));
                    continue;
                }
                int count = in.i32();
                if (count < 0 || count > MAX_MESSAGES) {
                    throw KvFileException.corrupt("corrupt: " + count + " tool calls");
                }
                List<ToolCall> calls = new ArrayList<>(count);
                for (int c = 0; c < count; c++) {
                    calls.add(new ToolCall(in.string(), in.string(), in.string()));
                }
                dialogue.add(new ChatMessage(r, content, calls, in.string(), in.string()));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw KvFileException.corrupt("corrupt: " + e.getMessage());
            }
        }
        long held = (long) sinks + recent;
        long expected = in.at + held * 12 + (long) cache.layers() * 2 * 4 * held * cache.kvDim();
        if (sinks < 0 || recent < 0 || held > cache.capacity() || expected != end) {
            throw KvFileException.corrupt("corrupt: " + sinks + " + " + recent + " tokens do not fit the file's size");
        }
        int[] ids = new int[(int) held];
        for (int i = 0; i < held; i++) {
            ids[i] = in.i32();
        }
        try {
            cache.restore(sinks, recent, streamed, ids);
        } catch (IllegalArgumentException e) {
            throw KvFileException.corrupt("corrupt: " + e.getMessage());
        }
        for (int i = 0; i < held; i++) {
            if (in.i64() != cache.positionAt(i)) {
                throw KvFileException.corrupt("corrupt: token positions do not match the cache's extent");
            }
        }
        if (pending < -1) {
            throw KvFileException.corrupt("corrupt: pending token " + pending);
        }
        int kvDim = cache.kvDim();
        for (int l = 0; l < cache.layers(); l++) {
            for (float[] a : new float[][] {cache.keys(l), cache.values(l)}) {
                for (int i = 0; i < held; i++) {
                    MemorySegment.copy(seg, F32, in.at, a, cache.slot(i) * kvDim, kvDim);
                    in.at += 4L * kvDim;
                }
            }
        }
        return new SessionImage(savedKey, List.copyOf(dialogue), pending, cache);
    }

    private static int crc(MemorySegment seg, long length) {
        CRC32C crc = new CRC32C();
        for (long at = 0; at < length; at += 1 << 30) {
            crc.update(seg.asSlice(at, Math.min(1 << 30, length - at)).asByteBuffer());
        }
        return (int) crc.getValue();
    }

    /** Bounds-checked reads over the mapped file. */
    private static final class Cursor {
        final MemorySegment seg;
        final long end;
        long at;

        Cursor(MemorySegment seg, long at, long end) {
            this.seg = seg;
            this.at = at;
            this.end = end;
        }

        private long take(long n) throws KvFileException {
            if (n < 0 || at + n > end) {
                throw KvFileException.corrupt("corrupt: a field runs past the end of the file");
            }
            long p = at;
            at += n;
            return p;
        }

        int i32() throws KvFileException {
            return seg.get(I32, take(4));
        }

        long i64() throws KvFileException {
            return seg.get(I64, take(8));
        }

        int u16() throws KvFileException {
            return seg.get(U16, take(2)) & 0xFFFF;
        }

        int u8() throws KvFileException {
            return seg.get(ValueLayout.JAVA_BYTE, take(1)) & 0xFF;
        }

        /** An i32 length (-1: null) and that many UTF-8 bytes. */
        String string() throws KvFileException {
            int n = i32();
            return n == -1 ? null : utf8(n);
        }

        String utf8(int n) throws KvFileException {
            long p = take(n);
            return new String(seg.asSlice(p, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** Buffered little-endian writes that keep the running CRC32C; {@link #finish()} appends it. */
    private static final class Sink {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();

        Sink(FileChannel ch) {
            this.ch = ch;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                drain();
            }
        }

        private void drain() throws IOException {
            buf.flip();
            crc.update(buf.duplicate());
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void i8(int v) throws IOException {
            room(1);
            buf.put((byte) v);
        }

        void i16(int v) throws IOException {
            room(2);
            buf.putShort((short) v);
        }

        void i32(int v) throws IOException {
            room(4);
            buf.putInt(v);
        }

        void i64(long v) throws IOException {
            room(8);
            buf.putLong(v);
        }

        void bytes(byte[] b) throws IOException {
            for (int off = 0; off < b.length; ) {
                room(1);
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
            }
        }

        /** An i32 length (-1: null) and the string's UTF-8 bytes. */
        void string(String s) throws IOException {
            if (s == null) {
                i32(-1);
                return;
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length);
            bytes(b);
        }

        void floats(float[] a, int off, int count) throws IOException {
            while (count > 0) {
                room(4);
                int n = Math.min(buf.remaining() / 4, count);
                buf.asFloatBuffer().put(a, off, n);
                buf.position(buf.position() + 4 * n);
                off += n;
                count -= n;
            }
        }

        /** Writes what is buffered, then the checksum of everything written. */
        void finish() throws IOException {
            drain();
            buf.putInt((int) crc.getValue()).flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
    }
}
