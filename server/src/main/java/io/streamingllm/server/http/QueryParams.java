package io.streamingllm.server.http;

import io.helidon.common.uri.UriQuery;
import io.streamingllm.server.edge.ApiException;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Typed query parameters. A parameter given more than once counts by its first value, except for
 * {@link #enumSet} which takes them all; a value that does not parse is an {@link ApiException} 400 that names the
 * parameter, says what it accepts and quotes what it got.
 */
public final class QueryParams {
    private QueryParams() {
    }

    /** An integer from {@code min} to {@code max}, surrounding blanks allowed; {@code fallback} when absent. */
    public static int intInRange(UriQuery query, String name, int fallback, int min, int max) {
        Optional<String> raw = query.first(name).asOptional();
        if (raw.isEmpty()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(raw.get().trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the 400
        }
        throw ApiException.badRequest(name + " must be an integer from " + min + " to " + max + ", got " + raw.get());
    }

    /** An RFC 3339 timestamp with its offset ({@code Z} or {@code +02:00}). */
    public static Optional<Instant> instant(UriQuery query, String name) {
        return query.first(name).asOptional().map(raw -> {
            try {
                return OffsetDateTime.parse(raw).toInstant();
            } catch (DateTimeParseException e) {
                throw ApiException.badRequest(name + " must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z, got "
                        + raw);
            }
        });
    }

    /**
     * One value read by {@code parse}, which throws {@link IllegalArgumentException} for a value it does not
     * accept; {@code expected} completes "NAME must be ...".
     */
    public static <T> Optional<T> parsed(UriQuery query, String name, Function<String, T> parse, String expected) {
        return query.first(name).asOptional().map(raw -> {
            try {
                return parse.apply(raw);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(name + " must be " + expected + ", got " + raw);
            }
        });
    }

    /**
     * Constants of {@code type} named in any case, the parameter repeated ({@code ?type=a&type=b}) or
     * comma-separated ({@code ?type=a,b}) or both; blank parts are skipped. {@code what} names a constant in the
     * message ("unknown event type X; known: [...]").
     */
    public static <E extends Enum<E>> Set<E> enumSet(UriQuery query, String name, Class<E> type, String what) {
        Set<E> constants = EnumSet.noneOf(type);
        for (String value : query.all(name, List::of)) {
            for (String part : value.split(",")) {
                String constant = part.trim();
                if (constant.isEmpty()) {
                    continue;
                }
                try {
                    constants.add(Enum.valueOf(type, constant.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw ApiException.badRequest("unknown " + what + " " + constant + "; known: "
                            + Arrays.toString(type.getEnumConstants()));
                }
            }
        }
        return constants;
    }
}
