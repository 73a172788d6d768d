package io.streamingllm.server.health;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.server.edge.ApiException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EngineGateTest {
    /** An engine whose probe answers what the test sets, counting the probes. */
    private static class ProbedEngine implements ModelEngine {
        volatile EngineHealth health;
        int probes;

        @Override
        public String engineName() {
            return "probed";
        }

        @Override
        public String model() {
            return "m";
        }

        @Override
        public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
            throw new UnsupportedOperationException();
        }

        @Override
        public EngineHealth health() {
            probes++;
            return health;
        }
    }

    @Test
    void aNotReadyEngineIs503AndProbedAgainOnlyAfterTheInterval() {
        ProbedEngine engine = new ProbedEngine();
        engine.health = new EngineHealth(EngineHealth.Status.MODEL_MISSING, "pull it first");
        AtomicLong now = new AtomicLong();
        EngineGate gate = new EngineGate(engine, Duration.ofSeconds(2), now::get);

        ApiException e = assertThrows(ApiException.class, gate::requireReady);
        assertEquals(503, e.status());
        assertEquals("engine_unavailable", e.error());
        assertEquals("pull it first", e.detail());

        engine.health = EngineHealth.ready("ok");
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThrows(ApiException.class, gate::requireReady, "within the interval the last probe stands");
        assertEquals(1, engine.probes);

        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertDoesNotThrow(gate::requireReady);
        assertEquals(2, engine.probes);
        assertDoesNotThrow(gate::requireReady);
        assertEquals(2, engine.probes, "a ready engine is trusted without probing");
    }

    @Test
    void aCallThatFoundTheEngineUnavailableEndsTheTrust() {
        ProbedEngine engine = new ProbedEngine();
        engine.health = EngineHealth.ready("ok");
        AtomicLong now = new AtomicLong();
        EngineGate gate = new EngineGate(engine, Duration.ofSeconds(2), now::get);
        assertDoesNotThrow(gate::requireReady);

        gate.markUnavailable("connection refused");
        ApiException e = assertThrows(ApiException.class, gate::requireReady);
        assertEquals("connection refused", e.detail());
        now.addAndGet(Duration.ofSeconds(2).toNanos());
        assertDoesNotThrow(gate::requireReady);
    }

    @Test
    void aProbeThatThrowsIsAnError() {
        EngineGate gate = new EngineGate(new ProbedEngine() {
            @Override
            public EngineHealth health() {
                throw new IllegalStateException("boom");
            }
        }, Duration.ofSeconds(2));
        EngineHealth h = gate.probe();
        assertEquals(EngineHealth.Status.ERROR, h.status());
        assertEquals("engine probe failed: boom", h.message());
    }
}
