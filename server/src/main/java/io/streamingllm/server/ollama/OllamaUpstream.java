package io.streamingllm.server.ollama;

import io.streamingllm.server.edge.ApiException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Passes the Ollama API's metadata calls ({@code /api/tags}, {@code /api/version}, {@code /api/show}) to Ollama. */
public final class OllamaUpstream {
    private final URI base;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public OllamaUpstream(URI base) {
        this.base = base;
    }

    /** Status and JSON body of the upstream answer; 503 when Ollama cannot be reached. */
    public Answer call(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new ApiException(503, "engine_unavailable", "Ollama is not reachable at " + base
                    + ": start it (ollama serve) or set STREAMING_LLM_OLLAMA_URL");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "engine_unavailable", "interrupted while calling Ollama");
        }
    }

    public record Answer(int status, String body) {
    }
}
