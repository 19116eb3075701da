package dev.oneway.gateway;

import dev.oneway.common.PrometheusMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one gateway did, served at its /metrics: jobs it accepted and canceled per tenant, and its open
 * WebSocket connections. Tenants are the configured ones, so the tenant tag stays bounded. Jobs succeeded
 * and failed are counted where they finish, by the workers.
 */
final class GatewayMetrics {

    private final PrometheusMeterRegistry registry = PrometheusMetrics.newRegistry();

    void accepted(String tenant) {
        Counter.builder("oneway.jobs.accepted").description("Jobs this gateway accepted (answered 202, not replayed)")
                .tag("tenant", tenant).register(registry).increment();
    }

    void canceled(String tenant) {
        Counter.builder("oneway.jobs.canceled").description("Queued jobs this gateway canceled")
                .tag("tenant", tenant).register(registry).increment();
    }

    private final AtomicInteger webSockets = new AtomicInteger();

    GatewayMetrics() {
        Gauge.builder("oneway.websocket.connections", webSockets, AtomicInteger::get)
                .description("Open /v1/events WebSocket connections").strongReference(true).register(registry);
    }

    /** A WebSocket client joined (+1) or left (-1) on any event loop. */
    void webSockets(int delta) {
        webSockets.addAndGet(delta);
    }

    /** Connections closed because the client did not read its events (the write queue stayed full). */
    void slowWebSocketClosed() {
        Counter.builder("oneway.websocket.closed.slow")
                .description("WebSocket connections closed because the client did not read its events")
                .register(registry).increment();
    }

    String scrape() {
        return registry.scrape();
    }
}
