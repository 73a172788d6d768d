package io.streamingllm.server.limits;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;

import java.util.Optional;
import java.util.function.Predicate;

/**
 * Holds a {@link TurnAdmission} slot while an HTTP request that starts a turn is handled (handlers run their turn
 * to the end, streamed or not, before they return), and answers 429 with {@code Retry-After} when the client has
 * its allowance in flight.
 */
public final class TurnAdmissionFilter implements Filter {
    private final TurnAdmission admission;
    private final Predicate<String> startsTurn;

    /** @param startsTurn whether a POST to this path starts a turn */
    public TurnAdmissionFilter(TurnAdmission admission, Predicate<String> startsTurn) {
        this.admission = admission;
        this.startsTurn = startsTurn;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (req.prologue().method() != Method.POST || !startsTurn.test(req.path().path())) {
            chain.proceed();
            return;
        }
        Optional<TurnAdmission.Slot> slot = admission.tryAcquire(req.remotePeer().address());
        if (slot.isEmpty()) {
            res.header(HeaderNames.RETRY_AFTER, Integer.toString(TurnAdmission.RETRY_AFTER_SECONDS));
            Errors.send(req, res, new ApiException(429, "too_many_turns", admission.refusal()));
            return;
        }
        try (TurnAdmission.Slot held = slot.get()) {
            chain.proceed();
        }
    }
}
