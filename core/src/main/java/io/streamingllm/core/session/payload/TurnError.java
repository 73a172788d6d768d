package io.streamingllm.core.session.payload;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.JsonObject;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadJson.fromWire;
import static io.streamingllm.core.session.payload.PayloadJson.wireName;
import static io.streamingllm.core.session.payload.PayloadKeys.KIND;
import static io.streamingllm.core.session.payload.PayloadKeys.MESSAGE;
import static io.streamingllm.core.session.payload.PayloadKeys.TURN;

/**
 * The payload of an ERROR: why a turn failed, logged after its ASSISTANT_MESSAGE.
 *
 * @param kind null when not recorded or unknown
 * @param turn the failed turn's number; 0 when not recorded
 */
public record TurnError(String message, EngineException.Kind kind, int turn) {
    public JsonObject toJson() {
        return JSON.createObjectBuilder()
                .add(MESSAGE, message)
                .add(KIND, wireName(kind))
                .add(TURN, turn)
                .build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.ERROR, Visibility.INTERNAL, toJson());
    }

    public static TurnError from(JsonObject payload) {
        return new TurnError(payload.getString(MESSAGE, ""),
                fromWire(EngineException.Kind.values(), payload.getString(KIND, null)), payload.getInt(TURN, 0));
    }
}
