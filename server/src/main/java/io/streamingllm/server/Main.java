package io.streamingllm.server;

/** Sidecar entry point (TODO issue 7). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.err.println("streaming-llm sidecar: server not implemented yet");
        System.exit(1);
    }
}
