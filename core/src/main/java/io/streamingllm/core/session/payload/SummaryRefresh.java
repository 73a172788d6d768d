package io.streamingllm.core.session.payload;

import io.streamingllm.core.config.SidecarConfig.SummaryMode;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;

import java.util.ArrayList;
import java.util.List;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadJson.fromWire;
import static io.streamingllm.core.session.payload.PayloadJson.wireName;
import static io.streamingllm.core.session.payload.PayloadKeys.EVICTED_EVENT_IDS;
import static io.streamingllm.core.session.payload.PayloadKeys.EVICTED_TURNS;
import static io.streamingllm.core.session.payload.PayloadKeys.MODE;
import static io.streamingllm.core.session.payload.PayloadKeys.SUMMARY_REF;
import static io.streamingllm.core.session.payload.PayloadKeys.SUMMARY_TOKENS;

/**
 * The payload of a SUMMARY_REFRESH: the conversation's summary changed, because turns left the window
 * (extractive) or because the model rewrote it (llm, which evicts nothing).
 *
 * @param summaryRef      the new summary's {@code summary_ref}; null when not recorded
 * @param evictedEventIds the USER_MESSAGE ids of the turns that left the window, oldest first
 * @param evictedTurns    turns out of the window since the conversation began; {@link #NOT_RECORDED} when absent
 * @param mode            null when not recorded or unknown
 */
public record SummaryRefresh(String summaryRef, List<String> evictedEventIds, int evictedTurns, int summaryTokens,
                             SummaryMode mode) {
    public static final int NOT_RECORDED = -1;

    public SummaryRefresh {
        evictedEventIds = List.copyOf(evictedEventIds);
    }

    public JsonObject toJson() {
        JsonArrayBuilder ids = JSON.createArrayBuilder();
        evictedEventIds.forEach(ids::add);
        return JSON.createObjectBuilder()
                .add(SUMMARY_REF, summaryRef)
                .add(EVICTED_EVENT_IDS, ids)
                .add(EVICTED_TURNS, evictedTurns)
                .add(SUMMARY_TOKENS, summaryTokens)
                .add(MODE, wireName(mode))
                .build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.SUMMARY_REFRESH, Visibility.INTERNAL, toJson());
    }

    public static SummaryRefresh from(JsonObject payload) {
        JsonArray ids = payload.getJsonArray(EVICTED_EVENT_IDS);
        List<String> evicted = new ArrayList<>(ids == null ? 0 : ids.size());
        if (ids != null) {
            ids.getValuesAs(JsonString.class).forEach(s -> evicted.add(s.getString()));
        }
        return new SummaryRefresh(payload.getString(SUMMARY_REF, null), evicted,
                payload.getInt(EVICTED_TURNS, NOT_RECORDED), payload.getInt(SUMMARY_TOKENS, 0),
                fromWire(SummaryMode.values(), payload.getString(MODE, null)));
    }
}
