package io.streamingllm.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Checks the README's "Sidecar Deployment" section (S28) by its heading and the code it shows. */
public final class ReadmeChecker {
    public static final String SECTION = "Sidecar Deployment";
    private static final Pattern WS_CHAT = Pattern.compile("\\bws://[^\\s/:`]+:[^\\s/`]+/ws/chat\\b");
    private static final Pattern HTTP_BASE = Pattern.compile("^http://[^\\s/:`]+:[^\\s/`]+/?$");
    private static final Pattern OLLAMA_HOST = Pattern.compile("\\bOLLAMA_HOST=http://[^\\s/:`]+:[^\\s/`]+");
    private static final Pattern CI_COMMAND = Pattern.compile("\\bmvn\\b.*\\s-pl\\s+deploy-verify\\b.*\\s-am\\b.*\\bverify\\b");

    private ReadmeChecker() {
    }

    public static List<String> check(Path repo) {
        Path readme = repo.resolve(Repo.README);
        if (!Files.isRegularFile(readme)) {
            return List.of("README.md is missing");
        }
        Markdown section;
        try {
            section = new Markdown(Files.readString(readme)).section(SECTION);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (section == null) {
            return List.of("README.md has no \"" + SECTION + "\" heading");
        }
        List<String> code = section.code();
        List<String> problems = new ArrayList<>();
        for (String path : List.of(Repo.RUN_SCRIPT, Repo.COMPOSE_FILE, Repo.ENV_TEMPLATE)) {
            if (code.stream().noneMatch(c -> c.contains(path))) {
                problems.add("the \"" + SECTION + "\" section does not show " + path);
            } else if (!Files.exists(repo.resolve(path))) {
                problems.add("the \"" + SECTION + "\" section names " + path + ", which does not exist");
            }
        }
        if (code.stream().noneMatch(c -> WS_CHAT.matcher(c).find())) {
            problems.add("the \"" + SECTION + "\" section does not show the WebSocket URL ws://HOST:PORT/ws/chat");
        }
        if (code.stream().noneMatch(c -> HTTP_BASE.matcher(c.strip()).matches())) {
            problems.add("the \"" + SECTION + "\" section does not show the HTTP base URL http://HOST:PORT");
        }
        if (code.stream().noneMatch(c -> OLLAMA_HOST.matcher(c).find())) {
            problems.add("the \"" + SECTION + "\" section does not show OLLAMA_HOST=http://HOST:PORT for Ollama clients");
        }
        if (code.stream().noneMatch(c -> CI_COMMAND.matcher(c).find())) {
            problems.add("the \"" + SECTION + "\" section does not show the CI command mvn -B -pl deploy-verify -am verify");
        }
        boolean containerNotes = section.headings().stream().anyMatch(h -> h.text().toLowerCase().contains("container"))
                && section.text().contains("host.docker.internal");
        if (!containerNotes) {
            problems.add("the \"" + SECTION + "\" section does not explain what changes inside a container (a container subsection naming host.docker.internal)");
        }
        return problems;
    }
}
