package io.streamingllm.core.session.payload;

import jakarta.json.Json;
import jakarta.json.JsonBuilderFactory;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;

import java.util.Locale;
import java.util.Map;

/** What the payload records share to write and read JSON. */
final class PayloadJson {
    /** Looked up once: {@code Json.createObjectBuilder()} looks the provider up on every call. */
    static final JsonBuilderFactory JSON = Json.createBuilderFactory(Map.of());

    private PayloadJson() {
    }

    static long getLong(JsonObject payload, String key, long absent) {
        return payload.get(key) instanceof JsonNumber n ? n.longValue() : absent;
    }

    /** The wire name of a constant: its name in lower case, as every enum in the payloads is written. */
    static String wireName(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    /** The constant whose {@link #wireName} is {@code wire}; null when absent or unknown. */
    static <E extends Enum<E>> E fromWire(E[] constants, String wire) {
        if (wire != null) {
            for (E e : constants) {
                if (wireName(e).equals(wire)) {
                    return e;
                }
            }
        }
        return null;
    }
}
