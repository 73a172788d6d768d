package io.streamingllm.core.summary;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.Ids;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.session.payload.PayloadKeys;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Markdown summaries, {@code SUMMARY_DIR/{conversation_id}.md}, first line {@code <!-- summary_ref:SHA256 -->}
 * (the format is in the package documentation). Thread-safe: it keeps no state, and a write replaces a file
 * atomically.
 */
public final class SummaryStore implements SummaryRepository {
    private static final String SUFFIX = ".md";
    private static final Pattern HEADER = Pattern.compile("<!-- summary_ref:([0-9a-f]{64}) -->");

    private final Path summaryDir;

    public SummaryStore(Path summaryDir) {
        this.summaryDir = summaryDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.summaryDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create summary directory " + this.summaryDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deterministic markdown bullets grouped by event type (types sorted by name, events in order): a heading,
     * then one {@code ## TYPE} section per type present. Message events show their {@code content} on one line;
     * other events a compact {@code key: value} rendering of their payload (keys sorted).
     */
    public static Summary rollingSummary(String conversationId, List<Event> events) {
        Ids.require("conversation", conversationId);
        Map<String, List<String>> sections = new TreeMap<>();
        for (Event e : events) {
            sections.computeIfAbsent(e.type().name(), k -> new ArrayList<>()).add(bullet(e));
        }
        StringBuilder md = new StringBuilder("# Summary of conversation ").append(conversationId).append('\n');
        if (sections.isEmpty()) {
            md.append("\n_No events._\n");
        }
        sections.forEach((type, bullets) -> {
            md.append("\n## ").append(type).append('\n');
            bullets.forEach(b -> md.append("- ").append(b).append('\n'));
        });
        String content = md.toString();
        return new Summary(conversationId, sha256Hex(content), content);
    }

    /** Lowercase hex SHA-256 of the string's UTF-8 bytes: the {@code summary_ref} of a content. */
    public static String sha256Hex(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Writes atomically (temp file + fsync + rename); returns the stored summary with its ref. */
    public Summary write(String conversationId, String content) {
        Path file = file(conversationId);
        if (content == null) {
            throw new IllegalArgumentException("summary content is missing");
        }
        String ref = sha256Hex(content);
        AtomicFiles.write(file, ("<!-- summary_ref:" + ref + " -->\n" + content).getBytes(StandardCharsets.UTF_8));
        return new Summary(conversationId, ref, content);
    }

    /** Reads and verifies the ref; a tampered file throws {@link TamperedSummaryException}. */
    public Optional<Summary> read(String conversationId) {
        Path file = file(conversationId);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read summary " + file + ": " + e.getMessage(), e);
        }
        int newline = text.indexOf('\n');
        String header = newline < 0 ? text : text.substring(0, newline);
        Matcher m = HEADER.matcher(header);
        if (!m.matches()) {
            throw new TamperedSummaryException("summary " + file + " has no valid <!-- summary_ref:SHA256 --> first line");
        }
        String content = newline < 0 ? "" : text.substring(newline + 1);
        String actual = sha256Hex(content);
        if (!actual.equals(m.group(1))) {
            throw new TamperedSummaryException("summary " + file + " was modified: its summary_ref is " + m.group(1)
                    + " but the content hashes to " + actual);
        }
        return Optional.of(new Summary(conversationId, m.group(1), content));
    }

    public boolean exists(String conversationId) {
        return Files.isRegularFile(file(conversationId));
    }

    /** Moves a conversation's summary into {@code archiveDir} (never replacing an earlier archive); false if none. */
    public boolean archive(String conversationId, Path archiveDir) {
        Path file = file(conversationId);
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            AtomicFiles.moveToArchive(file, archiveDir, conversationId, SUFFIX);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot archive " + file + " to " + archiveDir + ": " + e.getMessage(), e);
        }
    }

    private Path file(String conversationId) {
        return summaryDir.resolve(Ids.require("conversation", conversationId) + SUFFIX);
    }

    private static String bullet(Event e) {
        JsonObject payload = e.payload();
        if ((e.type() == EventType.USER_MESSAGE || e.type() == EventType.ASSISTANT_MESSAGE)
                && payload.get(PayloadKeys.CONTENT) instanceof JsonString content) {
            return oneLine(content.getString());
        }
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(payload).forEach((key, value) -> {
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(key).append(": ").append(value instanceof JsonString s ? s.getString() : value.toString());
        });
        return sb.isEmpty() ? "(no payload)" : oneLine(sb.toString());
    }

    private static String oneLine(String s) {
        String collapsed = s.replaceAll("\\s+", " ").trim();
        return collapsed.isEmpty() ? "(empty)" : collapsed;
    }
}
