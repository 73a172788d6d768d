package io.streamingllm.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.server.edge.ClientWrites;
import jakarta.json.JsonStructure;
import jakarta.json.JsonWriter;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static io.streamingllm.server.json.JsonText.JSON;

/** Writing JSON responses. */
public final class Responses {
    private Responses() {
    }

    public static void json(ServerResponse res, int status, JsonStructure body) {
        json(res, status, write(body));
    }

    public static void json(ServerResponse res, int status, String body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json");
        ClientWrites.send(res, body.getBytes(StandardCharsets.UTF_8));
    }

    public static String write(JsonStructure body) {
        StringWriter w = new StringWriter();
        try (JsonWriter jw = JSON.createWriter(w)) {
            jw.write(body);
        }
        return w.toString();
    }
}
