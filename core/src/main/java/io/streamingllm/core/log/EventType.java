package io.streamingllm.core.log;

/** Kinds of event in a conversation's log. */
public enum EventType {
    USER_MESSAGE, ASSISTANT_MESSAGE, SUMMARY_REFRESH, ERROR
}
