package io.streamingllm.local.kv;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.local.model.KvCache;
import java.util.List;

/**
 * What a conversation's session is on disk: its KV cache (sinks + recent window with token ids and
 * positions) and what the session needs to continue it, the dialogue whose tokens the cache holds and the
 * last answer token not yet fed.
 *
 * @param key          the conversation id the session is kept under
 * @param dialogue     the dialogue messages remembered, oldest first
 * @param pendingToken the last answer token sampled but not fed to the cache, or -1
 */
public record SessionImage(String key, List<ChatMessage> dialogue, int pendingToken, KvCache cache) {
}
