/**
 * Durable per-conversation event logs ({@link EventLog}): one JSONL file per conversation, made durable by a
 * write-ahead journal whose one fdatasync covers a whole batch of appends.
 * One {@code EventLog} instance per {@code LOG_DIR} at a time: it locks the directory before it touches anything in
 * it ({@link io.streamingllm.core.DirectoryLock}), and a second one, in this process or another, is refused.
 *
 * <h2>Files under {@code LOG_DIR}</h2>
 * <table>
 *   <caption>File layout</caption>
 *   <tr><th>path</th><th>content</th></tr>
 *   <tr><td>{@code {id}.jsonl}</td><td>the live log of conversation {@code id}: one event a line, each line one
 *       compact JSON object ({@code EventCodec}) ended by {@code \n}; only ever appended to, and cut back only
 *       by the repairs below</td></tr>
 *   <tr><td>{@code {id}.jsonl.corrupt}</td><td>every byte cut from the live log (a torn tail; bytes found where a
 *       journal record belongs), appended in the order cut, each piece ended by {@code \n}; never read back</td></tr>
 *   <tr><td>{@code .journal/}</td><td>the journal; present while a log is open, and after a crash. No valid id
 *       starts with a dot, so it is never taken for a conversation</td></tr>
 *   <tr><td>{@code .journal/{16 hex digits}.seg}</td><td>a segment: preallocated (zero-filled; 32 MiB by default,
 *       less when the file system is short of space, a record larger than that gets one of its own size), records
 *       from offset 0, zeros after the last; no header. Names increase (milliseconds at open, then +1); replay goes
 *       by sequence numbers, not names</td></tr>
 *   <tr><td>{@code .spare/{n}}</td><td>empty files made ahead ({@code SpareFiles}); a new conversation's log is one
 *       of them renamed to {@code {id}.jsonl}, so a burst of new conversations makes no inodes. At open, one that
 *       is not empty or has a second link (a crash during a rename) is deleted</td></tr>
 *   <tr><td>{@code .streaming-llm.lock}</td><td>the directory's lock file: locked while a log is open, one line naming
 *       the holder (pid, start time, host); never deleted</td></tr>
 *   <tr><td>{@code .probe}</td><td>written, forced and deleted by the health probe while the log cannot write</td></tr>
 * </table>
 * {@link EventLog#archive} moves {@code {id}.jsonl} into the archive directory as
 * {@code {id}.{UTC stamp}.jsonl}, its {@code .corrupt} along with it (named after it).
 *
 * <h2>Journal record</h2>
 * Big-endian, one after the other from the start of a segment:
 * <table>
 *   <caption>Journal record layout</caption>
 *   <tr><th>offset</th><th>size</th><th>field</th><th>meaning</th></tr>
 *   <tr><td>0</td><td>4</td><td>length</td><td>bytes after the CRC: 18 + idLength + the bytes' length</td></tr>
 *   <tr><td>4</td><td>4</td><td>crc</td><td>CRC32C of those {@code length} bytes</td></tr>
 *   <tr><td>8</td><td>8</td><td>seq</td><td>1 and up; consecutive within a segment, increasing across them</td></tr>
 *   <tr><td>16</td><td>8</td><td>offset</td><td>where the bytes start in {@code {id}.jsonl} (0 for ARCHIVED)</td></tr>
 *   <tr><td>24</td><td>1</td><td>kind</td><td>1 LINES: lines written at offset; 2 ARCHIVED: the file was archived,
 *       earlier records of the id are obsolete</td></tr>
 *   <tr><td>25</td><td>1</td><td>idLength</td><td>unsigned</td></tr>
 *   <tr><td>26</td><td>idLength</td><td>id</td><td>the conversation id, US-ASCII</td></tr>
 *   <tr><td>26 + idLength</td><td>length − 18 − idLength</td><td>bytes</td><td>the lines exactly as written to the
 *       file, newlines included; empty for ARCHIVED</td></tr>
 * </table>
 * A segment's valid records end at the first one whose length overruns the segment or is below 18, whose CRC does
 * not match, whose seq is not the next, or whose kind, offset or idLength is impossible.
 *
 * <h2>Durability</h2>
 * <ul>
 *   <li>When {@code append} returns, the lines are written at the end of the conversation's file (page cache only)
 *       and their journal record is written and fdatasync'd ({@code force(false)}) in a preallocated segment:
 *       the record is on disk, the file may not be yet. Events of one {@code appendAll} are adjacent and in one
 *       record.</li>
 *   <li>A checkpoint runs when the committer seals a full segment: every conversation file the segment's records
 *       wrote to is fsync'd, then {@code LOG_DIR}, then the segment is deleted. After it those lines are durable in
 *       their files. A failed checkpoint keeps that segment and every later one for the next open.</li>
 *   <li>On open, before anything reads the files, the journal left by a crash is replayed: for each conversation,
 *       the records after its last ARCHIVED marker, in seq order; a record whose bytes the file holds at its offset
 *       is skipped, one at the file's end is appended, other bytes at its offset (zeros of a lost page cache) are
 *       moved to {@code .corrupt} and the record written there, and one past the file's end is appended at the end
 *       (the gap is logged). Each replayed file and {@code LOG_DIR} are fsync'd, then the segments deleted.</li>
 *   <li>The first time an instance touches a conversation (read, tail, append), a torn tail — bytes after the last
 *       newline, or a last line that does not parse — is moved to {@code .corrupt} (fsync'd) and then cut.</li>
 *   <li>A crash during an append, before its record is durable: the append never returned; its line may or may
 *       not be in the file (a partial one is cut as a torn tail). After the record's fdatasync: replay brings the
 *       lines back whatever the file lost. During a checkpoint or a replay: the segments are still there and
 *       are replayed on the next open (replay is idempotent). During a segment's preallocation: it holds no valid record and is
 *       deleted on the next open.</li>
 *   <li>{@code archive} forces the file and makes an ARCHIVED record durable before the file moves, so replay
 *       never brings archived lines back.</li>
 *   <li>{@code close()} commits what is queued, checkpoints every segment, deletes the unused spare segment and
 *       {@code .journal/}, and closes every file: every acknowledged line is fsync'd in its file, and no journal is
 *       left (unless a checkpoint failed).</li>
 * </ul>
 *
 * <h2>Faults (disk full, read-only, I/O errors)</h2>
 * <ul>
 *   <li>A failed write is taken back and retried, the appender waiting, until {@code writeRetry} (default 5 s) after
 *       the problem began; then the append fails ({@link io.streamingllm.core.log.LogWriteException}) and nothing of
 *       it stays: lines written to a conversation's file are cut (and the cut forced) before any appender is told,
 *       a journal record that failed is overwritten with zeros, and its sequence numbers are given back. So what an
 *       appender was told (done or failed) is what the log holds after a restart.</li>
 *   <li>When the journal fails, every record pending at that moment fails with it (their lines are cut first;
 *       appends are refused meanwhile). The next commit starts afresh: no failure is permanent, unless a failed
 *       record cannot even be overwritten with zeros, after which appends are refused until the next open.</li>
 *   <li>{@link io.streamingllm.core.log.EventLog#health} says whether appends can be written, and why not; while
 *       they cannot, it probes (a 64 KiB write in {@code .probe}, a zero write in the journal's segment) at most
 *       once a second, so the log recovers without a restart and without appends to try.</li>
 *   <li>A spare segment that cannot be preallocated is a warning while the active one has room, tried again at
 *       most once a second; segments shrink (down to 64 KiB) to fit the space left. A read-only {@code LOG_DIR}
 *       is refused when the log opens (its lock file cannot be written).</li>
 * </ul>
 *
 * <h2>Queries</h2>
 * Reads take no lock and never load a whole log: {@link io.streamingllm.core.log.EventLog#query} reads one page
 * ({@link io.streamingllm.core.log.EventQuery}: since, after/before cursors, types, visibility, limit) with at most
 * {@code limit + 1} events (and about 4 MiB of their lines) in memory and one file open at a time; {@code since}
 * is a stream of such pages, {@code tail} reads backwards from the end, {@code read} and {@code byType} stream a
 * file at a time. Pages rely on the order the writers keep: a conversation's lines are in id order, ids being
 * time-ordered (UUIDv7, {@code EventIds}) and created in the order they are appended; timestamps come from the same
 * clock. So a cursor or a time is found in a file by bisection, a file stops being read at the first event the page
 * no longer wants, and files whose modification time is before the bound (with 2 s of slack for coarse clocks) are
 * not opened. A wall clock set back by more than that between two runs can hide events from these pages.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Callers' threads (platform or virtual): an appender serialises its lines, queues them on its
 *       conversation and takes the conversation's lock; the holder writes every queued line with one write and
 *       queues one journal record, then every appender of the group blocks until the committer completes its
 *       record. Readers read the files on the caller's thread, taking the conversation's lock only for the
 *       one-time tail check.</li>
 *   <li>{@code event-log-committer} (one platform thread): takes everything queued, writes it with one write,
 *       one {@code force(false)}, completes the appenders; runs the {@code onFsync} listener (which must not
 *       block); seals a full segment, and blocks when five sealed segments wait for their checkpoint.</li>
 *   <li>{@code event-log-preallocate} (one short-lived platform thread per segment): zero-fills and forces the
 *       next segment while the active one is half used.</li>
 *   <li>While a write fails, the thread that tried waits between retries: an appender holding its conversation's
 *       lock, or the committer (then every appender waits for it). A rollback after a failed commit runs on the
 *       committer and takes conversation locks, one at a time.</li>
 *   <li>{@code event-log-checkpoint} (one platform thread): checkpoints sealed segments, blocking in their
 *       fsyncs, which it spreads over up to 16 platform threads per checkpoint.</li>
 *   <li>{@code file-call} ({@link io.streamingllm.core.OffCarrier}'s platform threads): a virtual thread's file
 *       opens and tail repairs run there while it parks, so that it never holds its carrier in a
 *       system call the JDK does not compensate for.</li>
 * </ul>
 * A conversation's lock is held across its file write and tail repair, never across a journal commit (an archive
 * holds it while its marker commits; after a failed commit the markers fail before the rollback takes conversation
 * locks, which it does holding no other lock). Nothing
 * is written or forced under the journal's or the checkpointer's lock; the write-channel set's lock is held to
 * close an idle channel at most, and never waits for a conversation's lock.
 */
package io.streamingllm.core.log;
