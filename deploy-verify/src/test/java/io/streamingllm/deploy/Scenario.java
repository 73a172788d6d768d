package io.streamingllm.deploy;

import java.util.Map;

/**
 * One environment compose runs in: the shell variables, the repo-root {@code .env.sidecar}
 * content (null: no file), and the host port the service must then be published on.
 */
public record Scenario(String name, Map<String, String> shellEnv, String envSidecar, int expectedHostPort) {

    public static final Scenario NONE = new Scenario("no configuration", Map.of(), null, 8000);
    public static final Scenario HOST_PORT_9000 =
            new Scenario("STREAMING_LLM_PORT=9000 in the shell", Map.of("STREAMING_LLM_PORT", "9000"), null, 9000);
    /**
     * .env.sidecar written for host runs: it neither moves the host port nor the container's Ollama and OpenAI URLs;
     * its API key does reach the container.
     */
    public static final Scenario ENV_SIDECAR_9000_LOOPBACK = new Scenario(
            ".env.sidecar with port 9000, a loopback Ollama URL and host data dirs",
            Map.of(),
            """
            STREAMING_LLM_PORT=9000
            STREAMING_LLM_OLLAMA_URL=http://127.0.0.1:11434
            STREAMING_LLM_OPENAI_URL=http://127.0.0.1:8080/v1
            STREAMING_LLM_OPENAI_API_KEY=sk-from-env-file
            STREAMING_LLM_HOST=127.0.0.1
            STREAMING_LLM_DATA_DIR=./data
            STREAMING_LLM_LOG_DIR=/var/tmp/sidecar-logs
            STREAMING_LLM_MODEL=echo
            """,
            8000);

    @Override
    public String toString() {
        return name;
    }
}
