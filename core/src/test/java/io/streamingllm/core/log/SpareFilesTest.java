package io.streamingllm.core.log;

import jakarta.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool of empty files new conversations' logs are renamed from, on real files. */
class SpareFilesTest {
    @TempDir
    Path dir;

    @Test
    void aNewConversationsLogIsASpareRenamedIntoPlaceAndThePoolIsRefilled() throws Exception {
        try (EventLog log = new EventLog(dir)) {
            log.spares().awaitFilled();
            Set<Object> spareInodes = inodes(spares());
            assertEquals(SpareFiles.DEFAULT_TARGET, spareInodes.size());

            log.append(user("c1", "hello"));
            log.append(user("c2", "hi"));

            assertTrue(spareInodes.contains(inode(dir.resolve("c1.jsonl"))), "c1's log is one of the spares");
            assertTrue(spareInodes.contains(inode(dir.resolve("c2.jsonl"))), "c2's log is one of the spares");
            assertEquals(List.of("hello"), log.read("c1").map(e -> e.payload().getString("content")).toList());
            log.spares().awaitFilled();
            assertEquals(SpareFiles.DEFAULT_TARGET, spares().size(), "the two taken are made again");
            assertEquals(List.of("c1", "c2"), log.conversationIds().stream().sorted().toList(),
                    "spares are never taken for conversations");
        }
    }

    @Test
    void aClaimNeverReplacesAnExistingFile() throws Exception {
        Path existing = Files.writeString(dir.resolve("c.jsonl"), "{\"kept\":true}\n");
        try (SpareFiles spares = new SpareFiles(dir, 2)) {
            spares.awaitFilled();
            assertFalse(spares.claim(existing));
            assertEquals("{\"kept\":true}\n", Files.readString(existing));
            assertEquals(2, spares.ready(), "the spare stays in the pool");
        }
    }

    @Test
    void aClaimTheTargetsDirectoryRefusesFailsAndKeepsEverySpare() throws Exception {
        try (SpareFiles spares = new SpareFiles(dir, 3)) {
            spares.awaitFilled();
            Path nowhere = dir.resolve("gone").resolve("c.jsonl");
            assertThrows(NoSuchFileException.class, () -> spares.claim(nowhere));
            assertEquals(3, spares.ready(), "no spare is taken for it");
            assertTrue(spares.claim(dir.resolve("c.jsonl")), "the next claim still gets one");
        }
    }

    @Test
    void aNewConversationReadBeforeItsFirstAppendReadsItsEventsAfterIt() throws Exception {
        try (EventLog log = new EventLog(dir)) {
            assertEquals(List.of(), log.read("c").toList(), "nothing yet, and no file made by reading");
            assertFalse(Files.exists(dir.resolve("c.jsonl")));
            log.append(user("c", "hello"));
            assertEquals(List.of("hello"), log.read("c").map(e -> e.payload().getString("content")).toList());
        }
    }

    @Test
    void aSpareThatIsStillAConversationsFileAfterACrashIsDeletedNotHandedOut() throws Exception {
        // a crash after a claim's new name reached the disk but not the old name's removal, before the first write:
        // two names for one empty inode (replay writes the conversation's lines into it next)
        Path conversation = Files.createFile(dir.resolve("c.jsonl"));
        Path spareDir = Files.createDirectories(dir.resolve(SpareFiles.DIR));
        Files.createLink(spareDir.resolve("7"), conversation);
        Files.createFile(spareDir.resolve("3"));
        Files.writeString(spareDir.resolve("9"), "not empty");

        try (SpareFiles spares = new SpareFiles(dir, 4)) {
            spares.awaitFilled();
            assertFalse(Files.exists(spareDir.resolve("7")));
            assertFalse(Files.exists(spareDir.resolve("9")));
            assertEquals(1, ((Number) Files.getAttribute(conversation, "unix:nlink")).intValue());
            Object conversationInode = Files.getAttribute(conversation, "unix:ino");
            for (int i = 0; i < 4; i++) {
                Path claimed = dir.resolve("n" + i + ".jsonl");
                assertTrue(spares.claim(claimed));
                assertEquals(0, Files.size(claimed), "every spare handed out is empty");
                assertEquals(1, ((Number) Files.getAttribute(claimed, "unix:nlink")).intValue());
                assertFalse(conversationInode.equals(Files.getAttribute(claimed, "unix:ino")),
                        "the conversation's file is never handed out again");
            }
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void theFillerRecoversWhenTheDirectoryTakesFilesAgain() throws Exception {
        Path blocker = Files.writeString(dir.resolve(SpareFiles.DIR), "a file where the spares' directory belongs");
        try (SpareFiles spares = new SpareFiles(dir, 3, Duration.ofMillis(20))) {
            spares.awaitFailing();
            assertFalse(spares.claim(dir.resolve("c.jsonl")), "no spare while none can be made");
            Files.delete(blocker);
            spares.awaitFilled(); // the filler tries again after its retry interval, not only at the next open
            assertTrue(spares.claim(dir.resolve("c.jsonl")));
        }
    }

    @Test
    void anEmptyPoolLeavesCreationToTheCaller() throws Exception {
        try (SpareFiles spares = new SpareFiles(dir, 0)) {
            assertFalse(spares.claim(dir.resolve("c.jsonl")));
            assertFalse(Files.exists(dir.resolve("c.jsonl")));
        }
    }

    private List<Path> spares() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve(SpareFiles.DIR))) {
            return s.toList();
        }
    }

    private static Set<Object> inodes(List<Path> files) throws IOException {
        Set<Object> inodes = new HashSet<>();
        for (Path f : files) {
            inodes.add(inode(f));
        }
        return inodes;
    }

    private static Object inode(Path file) throws IOException {
        return Files.getAttribute(file, "unix:ino");
    }

    private static Event user(String conv, String content) {
        return Event.create(conv, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
    }
}
