package io.streamingllm.core.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The PostgreSQL database of a sidecar that shares its state with other replicas ({@code STREAMING_LLM_DATABASE_URL}),
 * as the JDBC driver takes it: a {@code jdbc:postgresql://} URL without credentials, the user, and the password as a
 * {@link Secret}. Accepted forms: {@code postgresql://user:pass@host:port/db?params} (also {@code postgres://}) and
 * {@code jdbc:postgresql://host:port/db?user=…&password=…}; {@code STREAMING_LLM_DATABASE_PASSWORD}, when set, is the
 * password. The password never appears in {@link #toString}, in {@link #jdbcUrl} or in an error message.
 *
 * @param jdbcUrl  {@code jdbc:postgresql://host[:port]/db[?params]}, credentials removed
 * @param user     the user name; empty: the driver's default (the operating system user)
 * @param password the password; empty for none (trust or peer authentication)
 * @param where    {@code host:port/db} for messages
 */
public record DatabaseConfig(String jdbcUrl, String user, Secret password, String where) {
    private static final String EXAMPLE = "postgresql://user:password@host:5432/database or jdbc:postgresql://host:5432/database";

    /** The database of {@code url} (a variable's value); empty when unset or blank. */
    static Optional<DatabaseConfig> parse(String url, String passwordOverride) {
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        String raw = url.strip();
        String lower = raw.toLowerCase(Locale.ROOT);
        String rest;
        if (lower.startsWith("jdbc:postgresql://")) {
            rest = raw.substring("jdbc:postgresql://".length());
        } else if (lower.startsWith("postgresql://")) {
            rest = raw.substring("postgresql://".length());
        } else if (lower.startsWith("postgres://")) {
            rest = raw.substring("postgres://".length());
        } else {
            throw bad(raw, "a URL starting with postgresql:// or jdbc:postgresql://");
        }
        URI u;
        try {
            u = new URI("postgresql://" + rest);
        } catch (URISyntaxException e) {
            throw bad(raw, "a valid URL (" + e.getReason() + ")");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw bad(raw, "a host after the //");
        }
        String db = u.getRawPath() == null ? "" : u.getRawPath();
        if (db.length() <= 1 || db.indexOf('/', 1) >= 0) {
            throw bad(raw, "one database name after the host, as in " + EXAMPLE);
        }
        String user = "";
        String password = "";
        if (u.getRawUserInfo() != null) {
            String info = u.getRawUserInfo();
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? "" : decode(info.substring(colon + 1));
        }
        List<String> kept = new ArrayList<>();
        if (u.getRawQuery() != null) {
            for (String param : u.getRawQuery().split("&")) {
                if (param.isEmpty()) {
                    continue;
                }
                int eq = param.indexOf('=');
                String name = (eq < 0 ? param : param.substring(0, eq)).toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : decode(param.substring(eq + 1));
                switch (name) {
                    case "user" -> user = value;
                    case "password" -> password = value;
                    default -> kept.add(param);
                }
            }
        }
        if (passwordOverride != null && !passwordOverride.isBlank()) {
            password = passwordOverride;
        }
        int port = u.getPort() < 0 ? 5432 : u.getPort();
        String host = u.getHost();
        String where = host + ":" + port + db;
        String jdbc = "jdbc:postgresql://" + host + ":" + port + db + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
        return Optional.of(new DatabaseConfig(jdbc, user, new Secret(password), where));
    }

    @Override
    public String toString() {
        return "DatabaseConfig[" + jdbcUrl + ", user=" + user + ", password=" + password + "]";
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(SidecarConfig.DATABASE_URL, "invalid " + SidecarConfig.DATABASE_URL
                    + ": a %-escape in its user, password or parameters is malformed");
        }
    }

    /** The message names the variable and what is expected, never the value (it may hold a password). */
    private static ConfigException bad(String raw, String expected) {
        return new ConfigException(SidecarConfig.DATABASE_URL, "invalid " + SidecarConfig.DATABASE_URL
                + " (value not shown: it may hold a password): expected " + expected);
    }
}
