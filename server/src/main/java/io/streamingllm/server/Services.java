package io.streamingllm.server;

import io.streamingllm.core.agent.AgentRepository;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.store.Store;
import io.streamingllm.server.edge.Auth;
import io.streamingllm.server.edge.Cors;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.limits.ClientConnections;
import io.streamingllm.server.limits.TurnAdmission;
import io.streamingllm.server.limits.WebSockets;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.playground.PlaygroundRoutes;
import io.streamingllm.server.stream.StreamSettings;

/** What {@link Main#services} wires and {@link Main#routing} serves; {@link SidecarServer} stops them in order. */
record Services(ModelEngine engine, AgentRepository agents, EventStore log, RecallIndex index, ChatService chat,
                EngineGate gate, Metrics metrics, StreamSettings settings, Auth auth, Cors cors,
                PlaygroundRoutes playground, ClientConnections connections, TurnAdmission admission,
                WebSockets webSockets, Store store) {
}
