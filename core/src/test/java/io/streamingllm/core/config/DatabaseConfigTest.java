package io.streamingllm.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** STREAMING_LLM_DATABASE_URL and _PASSWORD: both URL forms, the password kept out of every string. */
class DatabaseConfigTest {
    private static SidecarConfig config(String url, String password) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATABASE_URL, url);
        if (password != null) {
            env.put(SidecarConfig.DATABASE_PASSWORD, password);
        }
        return SidecarConfig.fromEnv(env);
    }

    @Test
    void unsetMeansTheFiles() {
        assertEquals(Optional.empty(), SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "echo")).database());
        assertEquals(Optional.empty(), config("  ", null).database());
    }

    @Test
    void aPostgresqlUrlBecomesAJdbcUrlWithoutItsCredentials() {
        DatabaseConfig db = config("postgresql://app:p%40ss+w0rd@db.internal/sidecar?sslmode=require", null)
                .database().orElseThrow();
        assertEquals("jdbc:postgresql://db.internal:5432/sidecar?sslmode=require", db.jdbcUrl());
        assertEquals("app", db.user());
        assertEquals("p@ss+w0rd", db.password().value());
        assertEquals("db.internal:5432/sidecar", db.where());
    }

    @Test
    void aJdbcUrlKeepsItsParametersButNotItsPassword() {
        DatabaseConfig db = config("jdbc:postgresql://127.0.0.1:6543/x?user=bob&password=pw1&connectTimeout=3", null)
                .database().orElseThrow();
        assertEquals("jdbc:postgresql://127.0.0.1:6543/x?connectTimeout=3", db.jdbcUrl());
        assertEquals("bob", db.user());
        assertEquals("pw1", db.password().value());
    }

    @Test
    void thePasswordVariableWinsAndIsNeverShown() {
        SidecarConfig c = config("postgres://app:inurl@h:5/db", "from-env-secret");
        DatabaseConfig db = c.database().orElseThrow();
        assertEquals("from-env-secret", db.password().value());
        assertFalse(db.toString().contains("from-env-secret"), db.toString());
        assertFalse(c.toString().contains("from-env-secret"), c.toString());
        assertFalse(c.toString().contains("inurl"), c.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mysql://u:topsecret@h/db", "postgresql://u:topsecret@/db", "postgresql://u:topsecret@h",
            "postgresql://u:topsecret@h/a/b", "jdbc:postgresql://u:topsecret@h:99999999999/db",
            "postgresql://u:topsecret@h/db?password=%zz"})
    void aBadUrlIsOneLineNamingTheVariableButNotTheValue(String url) {
        ConfigException e = assertThrows(ConfigException.class, () -> config(url, null));
        assertEquals(SidecarConfig.DATABASE_URL, e.variable());
        assertTrue(e.getMessage().startsWith("invalid STREAMING_LLM_DATABASE_URL"), e.getMessage());
        assertFalse(e.getMessage().contains("topsecret"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
