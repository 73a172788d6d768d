package io.streamingllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.config.DatabaseConfig;
import io.streamingllm.core.config.SidecarConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docker/replicas/streaming-llm-replicas.compose.yml by meaning (issue 17): two sidecar replicas on one PostgreSQL
 * behind nginx. The replicas reach the database the compose file starts, with its password, each with a data
 * directory of its own; they wait for the database to be healthy, the proxy for them; nginx sends to both, streams
 * and upgrades WebSockets.
 */
class ReplicasComposeTest {
    static final Path COMPOSE = Path.of("docker", "replicas", "streaming-llm-replicas.compose.yml");
    static final List<String> REPLICAS = List.of("sidecar-1", "sidecar-2");
    static final Map<String, String> SHELL = Map.of("POSTGRES_PASSWORD", "pw-from-shell");

    static ComposeProject project(Map<String, String> shell) {
        return ComposeProject.load(Repo.root().resolve(COMPOSE), shell);
    }

    @Test
    void theReplicasUseTheDatabaseTheFileStartsWithItsPassword() {
        ComposeProject p = project(SHELL);
        ComposeService pg = p.service("postgres");
        assertNotNull(pg, "no postgres service");
        Map<String, String> pgEnv = pg.containerEnvironment();
        assertTrue(pg.healthcheck().orElseThrow().contains("pg_isready"), "postgres needs a readiness check");
        for (String name : REPLICAS) {
            ComposeService s = p.service(name);
            assertNotNull(s, "no service " + name);
            Map<String, String> env = s.containerEnvironment();
            // the environment the sidecar reads, parsed as the sidecar parses it
            Map<String, String> sidecarEnv = new HashMap<>(env);
            sidecarEnv.put(SidecarConfig.MODEL, "echo");
            DatabaseConfig db = SidecarConfig.fromEnv(sidecarEnv).database().orElseThrow(
                    () -> new AssertionError(name + " has no STREAMING_LLM_DATABASE_URL"));
            assertEquals("jdbc:postgresql://postgres:5432/" + pgEnv.get("POSTGRES_DB"), db.jdbcUrl(), name);
            assertEquals(pgEnv.get("POSTGRES_USER"), db.user(), name);
            assertEquals("pw-from-shell", db.password().value(), name);
            assertEquals("pw-from-shell", pgEnv.get("POSTGRES_PASSWORD"));
            assertEquals("service_healthy", s.dependsOn().get("postgres"), name + " must wait for the database");
            assertTrue(String.join(" ", s.healthcheck().orElseThrow()).contains("/readyz"),
                    name + ": the proxy should only get ready replicas");
            assertEquals(List.of(), s.ports(), name + " is reached through the proxy only");
            assertTrue(s.commandLine().contains("/sidecar/server/streaming-llm-server.jar"), name);
        }
    }

    @Test
    void eachReplicaHasADataDirectoryOfItsOwn() {
        ComposeProject p = project(SHELL);
        Path one = dataDir(p.service("sidecar-1"));
        Path two = dataDir(p.service("sidecar-2"));
        // a data directory is locked by one process: a shared one would stop the second replica at start-up
        assertNotEquals(one, two);
        assertTrue(!one.startsWith(two) && !two.startsWith(one), one + " / " + two);
    }

    private static Path dataDir(ComposeService s) {
        String dir = s.containerEnvironment().get(SidecarConfig.DATA_DIR);
        assertNotNull(dir, s.name() + " sets no data directory");
        return s.hostPathOf(Path.of(dir)).orElseThrow(() -> new AssertionError(s.name() + ": " + dir
                + " is not on a bind mount"));
    }

    @Test
    void theAgentsDirectoryIsWritableForTheSeedsAReplicaWrites() {
        ComposeProject p = project(SHELL);
        for (String name : REPLICAS) {
            ComposeService s = p.service(name);
            String agents = s.containerEnvironment().get(SidecarConfig.AGENTS_DIR);
            assertNotNull(agents, name + " sets no agents directory");
            Mount m = s.mountOf(Path.of(agents)).orElseThrow(() -> new AssertionError(name + ": agents not mounted"));
            assertTrue(!m.readOnly(), name + ": the built-in agents are written to " + agents + " when missing");
        }
    }

    @Test
    void withoutAPasswordComposeRefusesToStart() {
        ComposeException e = assertThrows(ComposeException.class, () -> project(Map.of()).service("postgres")
                .containerEnvironment());
        assertTrue(e.getMessage().contains("POSTGRES_PASSWORD"), e.getMessage());
    }

    @Test
    void theProxySendsToBothReplicasStreamingAndUpgradingWebSockets() throws Exception {
        ComposeProject p = project(SHELL);
        ComposeService proxy = p.service("proxy");
        assertNotNull(proxy, "no proxy service");
        for (String name : REPLICAS) {
            assertEquals("service_healthy", proxy.dependsOn().get(name), "the proxy waits for " + name);
        }
        assertEquals(1, proxy.ports().size());
        Path conf = proxy.mounts().stream().filter(m -> m.target().toString().startsWith("/etc/nginx"))
                .findFirst().orElseThrow(() -> new AssertionError("no nginx configuration mounted")).hostPath();
        assertTrue(Files.isRegularFile(conf), conf + " is missing");
        // the directives, without comments
        String nginx = String.join("\n", Files.readAllLines(conf).stream()
                .map(l -> l.indexOf('#') >= 0 ? l.substring(0, l.indexOf('#')) : l).toList());
        for (String name : REPLICAS) {
            assertTrue(nginx.contains("server " + name + ":8000"), "nginx does not send to " + name);
        }
        assertTrue(nginx.contains("listen " + proxy.ports().getFirst().target()), "nginx listens elsewhere");
        assertTrue(nginx.contains("proxy_buffering off"), "streamed tokens would be buffered");
        assertTrue(nginx.contains("proxy_set_header Upgrade $http_upgrade"), "WebSockets would not upgrade");
        assertTrue(!nginx.contains("non_idempotent"), "a turn must never be sent twice");
    }
}
