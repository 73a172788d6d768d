package io.streamingllm.core.log;

import io.streamingllm.core.Ids;
import io.streamingllm.core.InvalidIdException;

import java.nio.file.Path;

/**
 * Names of the files under {@code LOG_DIR} (see the package comment): {@code {id}.jsonl}, {@code {id}.jsonl.corrupt}
 * and the journal directory. Immutable.
 */
record LogLayout(Path dir) {
    static final String SUFFIX = ".jsonl";
    static final String CORRUPT_SUFFIX = ".jsonl.corrupt";

    /** The live log of a conversation whose id is known to be valid. */
    Path file(String conversationId) {
        return dir.resolve(conversationId + SUFFIX);
    }

    /** The live log of a conversation; an invalid id throws {@link InvalidIdException}. */
    Path requireFile(String conversationId) {
        return file(Ids.require("conversation", conversationId));
    }

    /** Where bytes cut from a conversation's live log are kept. */
    Path corruptFile(String conversationId) {
        return dir.resolve(conversationId + CORRUPT_SUFFIX);
    }

    Path journalDir() {
        return dir.resolve(Journal.DIR);
    }
}
