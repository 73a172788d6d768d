package io.streamingllm.local.kv;

import io.streamingllm.core.Ids;
import io.streamingllm.local.model.KvCache;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The saved sessions of one model under {@code DATA_DIR/kv/}: {@code ID.kv} per conversation ({@link KvFile}),
 * written to {@code ID.kv.tmp}, forced, renamed over the old file and the directory forced, so a crash leaves
 * the old file or the new one, never a torn one (a {@code .tmp} left by a crash is deleted on open). Ids must
 * match {@link Ids#PATTERN}, so no file is ever named outside the directory.
 *
 * <p>A disk budget caps the files' total size: after each save the least recently used files (saved or
 * restored longest ago; file times carry this across restarts) are deleted until the rest fit. A session
 * larger than the whole budget is not saved.
 *
 * <p>A file that cannot be used (another model, engine revision or cache size, a corrupt or truncated file)
 * is reported in one log line and not restored: the caller prefills instead. Corrupt files are deleted.
 *
 * <p>Thread-safe: the index is guarded by this object; saving and loading one id at the same time is the
 * caller's to avoid.
 */
public final class KvStore {
    private static final System.Logger LOG = System.getLogger(KvStore.class.getName());
    static final String SUFFIX = ".kv";
    static final String TEMP_SUFFIX = ".kv.tmp";

    private final Path dir;
    private final long budgetBytes;
    private final byte[] fingerprint;
    private final Map<String, Long> sizes = new HashMap<>();    // guarded by this
    private final Map<String, Long> lastUsed = new HashMap<>(); // guarded by this: millis
    private long total;                                         // guarded by this
    private boolean warnedTooLarge;                             // guarded by this

    private KvStore(Path dir, long budgetBytes, byte[] fingerprint) {
        this.dir = dir;
        this.budgetBytes = budgetBytes;
        this.fingerprint = fingerprint.clone();
    }

    /**
     * Opens (creating) {@code dir} for the model whose {@link ModelFingerprint} is {@code fingerprint}: deletes
     * leftover temp files, indexes the saved ones and trims them to {@code budgetBytes}.
     */
    public static KvStore open(Path dir, long budgetBytes, byte[] fingerprint) throws IOException {
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("the KV disk budget must be positive, got " + budgetBytes);
        }
        Path d = dir.toAbsolutePath().normalize();
        Files.createDirectories(d);
        KvStore store = new KvStore(d, budgetBytes, fingerprint);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(TEMP_SUFFIX)) {
                    Files.deleteIfExists(f);
                } else if (name.endsWith(SUFFIX) && Files.isRegularFile(f)) {
                    String id = name.substring(0, name.length() - SUFFIX.length());
                    if (Ids.isValid(id)) {
                        store.indexed(id, Files.size(f), Files.getLastModifiedTime(f).toMillis());
                    }
                }
            }
        }
        synchronized (store) {
            store.trim(null);
        }
        return store;
    }

    public Path directory() {
        return dir;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** Whether {@code key} can name a file here (a valid conversation id). */
    public static boolean accepts(String key) {
        return Ids.isValid(key);
    }

    /** Total size of the saved files. */
    public synchronized long totalBytes() {
        return total;
    }

    /** Whether a file is saved for {@code key}. */
    public synchronized boolean contains(String key) {
        return sizes.containsKey(key);
    }

    private Path file(String key, String suffix) {
        if (!accepts(key)) {
            throw new IllegalArgumentException("not a valid conversation id for a KV cache file: " + key);
        }
        Path f = dir.resolve(key + suffix).normalize();
        if (!dir.equals(f.getParent())) {
            throw new IllegalArgumentException("KV cache file for " + key + " would leave " + dir);
        }
        return f;
    }

    /**
     * The session saved for {@code key}, read into {@code fresh} (a cleared cache of the engine's shape), or
     * empty when there is none or it cannot be used (one log line says why).
     */
    public Optional<SessionImage> load(String key, KvCache fresh) {
        Path f = file(key, SUFFIX);
        try {
            SessionImage image = KvFile.read(f, fingerprint, key, fresh);
            touch(key, f);
            return Optional.of(image);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (KvFileException e) {
            LOG.log(Level.WARNING, "KV cache of conversation " + key + " not restored (" + e.getMessage()
                    + "): the turn prefills its prompt instead");
            fresh.clear();
            if (e.corrupt()) {
                delete(key);
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "KV cache of conversation " + key + " not restored (" + e
                    + "): the turn prefills its prompt instead");
            fresh.clear();
            return Optional.empty();
        }
    }

    /**
     * Saves {@code image} atomically, then deletes the least recently used other files until the total fits
     * the budget. An image larger than the budget is not saved (its old file is deleted, one log line once).
     */
    public void save(SessionImage image) throws IOException {
        String key = image.key();
        Path target = file(key, SUFFIX);
        Path temp = file(key, TEMP_SUFFIX);
        long size;
        try {
            size = KvFile.write(temp, fingerprint, image);
            if (size > budgetBytes) {
                Files.deleteIfExists(temp);
                delete(key);
                synchronized (this) {
                    if (!warnedTooLarge) {
                        warnedTooLarge = true;
                        LOG.log(Level.WARNING, "a KV cache of " + (size >> 20) + " MiB exceeds the KV disk budget of "
                                + (budgetBytes >> 20) + " MiB: such sessions are not saved (raise STREAMING_LLM_KV_DISK_MB)");
                    }
                }
                return;
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        forceDirectory();
        synchronized (this) {
            indexed(key, size, System.currentTimeMillis());
            trim(key);
        }
    }

    /** Deletes what is saved for {@code key}, if anything. */
    public void delete(String key) {
        Path f = file(key, SUFFIX);
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not delete " + f + ": " + e.getMessage());
        }
        synchronized (this) {
            Long size = sizes.remove(key);
            lastUsed.remove(key);
            if (size != null) {
                total -= size;
            }
        }
    }

    private void touch(String key, Path f) {
        long now = System.currentTimeMillis();
        try {
            Files.setLastModifiedTime(f, FileTime.fromMillis(now)); // the LRU order survives a restart
        } catch (IOException e) {
            // the in-memory order still holds
        }
        synchronized (this) {
            if (sizes.containsKey(key)) {
                lastUsed.put(key, now);
            }
        }
    }

    private synchronized void indexed(String key, long size, long usedAt) {
        Long old = sizes.put(key, size);
        total += size - (old == null ? 0 : old);
        lastUsed.put(key, usedAt);
    }

    /** Deletes least recently used files, never {@code keep}, until the total fits the budget. */
    private void trim(String keep) {
        while (total > budgetBytes) {
            String victim = lastUsed.entrySet().stream()
                    .filter(e -> !e.getKey().equals(keep))
                    .min(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                    .map(Map.Entry::getKey).orElse(null);
            if (victim == null) {
                return;
            }
            try {
                Files.deleteIfExists(file(victim, SUFFIX));
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete the KV cache of " + victim + ": " + e.getMessage());
            }
            total -= sizes.remove(victim);
            lastUsed.remove(victim);
        }
    }

    private void forceDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true); // the rename itself is durable
        } catch (IOException e) {
            // not every file system lets a directory be opened; the rename is still atomic
        }
    }
}
