package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The compose model the contract checks rely on behaves as docker compose does. */
class ComposeModelTest {
    @TempDir
    Path tmp;

    private static final Map<String, String> ENV = Map.of("SET", "value", "EMPTY", "");

    @Test
    void interpolatesLikeCompose() {
        assertEquals("value", Interpolator.interpolate("${SET}", ENV));
        assertEquals("value", Interpolator.interpolate("$SET", ENV));
        assertEquals("", Interpolator.interpolate("${UNSET}", ENV));
        assertEquals("d", Interpolator.interpolate("${UNSET:-d}", ENV));
        assertEquals("d", Interpolator.interpolate("${EMPTY:-d}", ENV));
        assertEquals("", Interpolator.interpolate("${EMPTY-d}", ENV));
        assertEquals("d", Interpolator.interpolate("${UNSET-d}", ENV));
        assertEquals("value", Interpolator.interpolate("${SET:-d}", ENV));
        assertEquals("alt", Interpolator.interpolate("${SET:+alt}", ENV));
        assertEquals("", Interpolator.interpolate("${EMPTY:+alt}", ENV));
        assertEquals("value:8000", Interpolator.interpolate("${UNSET:-${SET}}:8000", ENV));
        assertEquals("$SET ${SET}", Interpolator.interpolate("$$SET $${SET}", ENV));
        assertEquals("value", Interpolator.interpolate("${SET:?must be set}", ENV));
        ComposeException e = assertThrows(ComposeException.class, () -> Interpolator.interpolate("${EMPTY:?say what}", ENV));
        assertTrue(e.getMessage().contains("EMPTY") && e.getMessage().contains("say what"), e.getMessage());
        assertEquals("", Interpolator.interpolate("${EMPTY?x}", ENV));
        assertThrows(ComposeException.class, () -> Interpolator.interpolate("${UNSET?x}", ENV));
        assertThrows(ComposeException.class, () -> Interpolator.interpolate("${UNCLOSED", ENV));
        assertThrows(ComposeException.class, () -> Interpolator.interpolate("cost $5", ENV));
    }

    @Test
    void parsesPortsShortAndLong() {
        assertEquals(List.of(new PortMapping(null, null, 8000, "tcp")), PortMapping.parse(8000));
        assertEquals(List.of(new PortMapping(null, null, 8000, "tcp")), PortMapping.parse("8000"));
        assertEquals(List.of(new PortMapping(null, 9000, 8000, "tcp")), PortMapping.parse("9000:8000"));
        assertEquals(List.of(new PortMapping("127.0.0.1", 9000, 8000, "udp")), PortMapping.parse("127.0.0.1:9000:8000/udp"));
        assertEquals(List.of(new PortMapping("::1", 9000, 8000, "tcp")), PortMapping.parse("[::1]:9000:8000"));
        assertEquals(List.of(new PortMapping("127.0.0.1", null, 8000, "tcp")), PortMapping.parse("127.0.0.1::8000"));
        assertEquals(List.of(new PortMapping(null, 9000, 8000, "tcp"), new PortMapping(null, 9001, 8001, "tcp")),
                PortMapping.parse("9000-9001:8000-8001"));
        assertThrows(ComposeException.class, () -> PortMapping.parse("9000-9005:8000"));
        assertThrows(ComposeException.class, () -> PortMapping.parse("abc:8000"));
        assertThrows(ComposeException.class, () -> PortMapping.parse("9000:70000"));
        assertEquals(List.of(new PortMapping("0.0.0.0", 9000, 8000, "tcp")),
                PortMapping.parse(Map.of("target", 8000, "published", "9000", "host_ip", "0.0.0.0")));
        assertEquals(List.of(new PortMapping(null, null, 8000, "tcp")), PortMapping.parse(Map.of("target", "8000")));
    }

    @Test
    void environmentWinsOverEnvFilesAndLaterEnvFilesOverEarlier() throws IOException {
        Files.writeString(tmp.resolve("a.env"), "A=from-a\nB=from-a\nC=from-a\n# comment\nexport Q=\"quoted value\"\n");
        Files.writeString(tmp.resolve("b.env"), "B=from-b\nC='from-b' \nD=unquoted # trailing comment\n");
        Path compose = write("""
                services:
                  s:
                    env_file:
                      - a.env
                      - path: b.env
                      - path: missing.env
                        required: false
                    environment:
                      C: from-environment
                      N: 8000
                      FROM_SHELL:
                """);
        Map<String, String> env = ComposeProject.load(compose, Map.of("FROM_SHELL", "shell")).service("s").containerEnvironment();
        assertEquals(Map.of("A", "from-a", "B", "from-b", "C", "from-environment", "D", "unquoted", "Q", "quoted value",
                "N", "8000", "FROM_SHELL", "shell"), env);
        Map<String, String> withoutShell = ComposeProject.load(compose, Map.of()).service("s").containerEnvironment();
        assertTrue(!withoutShell.containsKey("FROM_SHELL"), "a bare key with no shell value stays unset");
    }

    @Test
    void environmentListFormAndSingleEnvFileString() throws IOException {
        Files.writeString(tmp.resolve("one.env"), "X=file\nY=file\n");
        Path compose = write("""
                services:
                  s:
                    env_file: one.env
                    environment:
                      - X=list
                      - Z=${V:-default}
                """);
        assertEquals(Map.of("X", "list", "Y", "file", "Z", "default"),
                ComposeProject.load(compose, Map.of()).service("s").containerEnvironment());
    }

    @Test
    void requiredEnvFileMissingIsRefused() throws IOException {
        Path compose = write("services:\n  s:\n    env_file: [nope.env]\n");
        ComposeException e = assertThrows(ComposeException.class, () -> ComposeProject.load(compose, Map.of()).service("s").containerEnvironment());
        assertTrue(e.getMessage().contains("nope.env"), e.getMessage());
    }

    @Test
    void shellEnvironmentWinsOverProjectDotEnvForInterpolation() throws IOException {
        Files.writeString(tmp.resolve(".env"), "HOST_PORT=7000\nOTHER=from-dotenv\n");
        Path compose = write("""
                services:
                  s:
                    ports: ["${HOST_PORT:-8000}:8000"]
                    environment: {O: "${OTHER}"}
                """);
        assertEquals(7000, ComposeProject.load(compose, Map.of()).service("s").ports().get(0).published());
        ComposeService s = ComposeProject.load(compose, Map.of("HOST_PORT", "9000")).service("s");
        assertEquals(9000, s.ports().get(0).published());
        assertEquals("from-dotenv", s.containerEnvironment().get("O"));
    }

    @Test
    void bindMountsResolveAgainstTheComposeFileDirectory() throws IOException {
        Path compose = write("""
                services:
                  s:
                    volumes:
                      - ../data:/srv/data
                      - named:/cache
                      - type: bind
                        source: ./agents
                        target: /srv/agents
                        read_only: true
                """);
        ComposeService s = ComposeProject.load(compose, Map.of()).service("s");
        assertEquals(tmp.getParent().resolve("data/logs"), s.hostPathOf(Path.of("/srv/data/logs")).orElseThrow());
        assertEquals(tmp.resolve("agents"), s.hostPathOf(Path.of("/srv/agents")).orElseThrow());
        assertTrue(s.mountOf(Path.of("/srv/agents")).orElseThrow().readOnly());
        assertTrue(s.hostPathOf(Path.of("/cache/x")).isEmpty(), "a named volume is not a host path");
        assertTrue(s.hostPathOf(Path.of("/tmp")).isEmpty());
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(tmp.resolve("compose.yml"), yaml);
    }
}
