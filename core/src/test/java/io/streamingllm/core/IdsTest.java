package io.streamingllm.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdsTest {
    @ParameterizedTest
    @ValueSource(strings = {"planner", "a", "A.b-c_d", "0", "conv.2026-11-24"})
    void acceptsIdsOfThePattern(String id) {
        assertTrue(Ids.isValid(id));
        assertEquals(id, Ids.require("agent", id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "../x", "a/b", "a\\b", "..", ".hidden", "-x", "_x", "a b", "a\0b", "é", "a:b"})
    void refusesAnythingElse(String id) {
        assertFalse(Ids.isValid(id));
        InvalidIdException e = assertThrows(InvalidIdException.class, () -> Ids.require("conversation", id));
        assertTrue(e.getMessage().startsWith("invalid conversation id"), e.getMessage());
        assertFalse(e.getMessage().contains("\0"), "NUL must be escaped in the message");
    }

    @org.junit.jupiter.api.Test
    void lengthLimitIs128() {
        assertTrue(Ids.isValid("a".repeat(128)));
        assertFalse(Ids.isValid("a".repeat(129)));
        assertFalse(Ids.isValid("a".repeat(300)));
        assertFalse(Ids.isValid(null));
        assertTrue(Ids.isValid(Ids.newConversationId()));
    }
}
