package dev.oneway.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop HTTP load generator: {@code connections} keep-alive connections, each sending the next
 * request as soon as the previous answer's body is read. Only answers that complete inside the measured
 * window count; the warm-up before it is discarded.
 */
public final class LoadGenerator {

    public record Result(double requestsPerSecond, long ok, long failed, double p50Ms, double p99Ms) { }

    private static final long REQUEST_TIMEOUT_MS = 10_000;

    private final Vertx vertx;
    private final int connections;

    public LoadGenerator(Vertx vertx, int connections) {
        this.vertx = vertx;
        this.connections = connections;
    }

    public Result post(int port, String path, Map<String, String> headers, String body, int expectedStatus,
                       long warmupMs, long measureMs) throws InterruptedException {
        HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(connections));
        // An answer that never comes counts as a failure instead of stopping its connection's loop.
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port).setURI(path)
                .setIdleTimeout(REQUEST_TIMEOUT_MS);
        headers.forEach(request::putHeader);
        Buffer payload = Buffer.buffer(body);
        long start = System.nanoTime();
        long measureFrom = start + warmupMs * 1_000_000;
        long measureTo = measureFrom + measureMs * 1_000_000;
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(connections);
        for (int c = 0; c < connections; c++) {
            vertx.runOnContext(v -> loop(client, request, payload, expectedStatus, measureFrom, measureTo, ok, failed,
                    latencies, done));
        }
        if (!done.await(warmupMs + measureMs + 60_000, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("load generator did not finish");
        }
        client.close();
        double[] ms = latencies.stream().mapToDouble(Double::doubleValue).toArray();
        return new Result(ok.get() / (measureMs / 1000.0), ok.get(), failed.get(), Stats.percentile(ms, 50),
                Stats.percentile(ms, 99));
    }

    private void loop(HttpClientAgent client, RequestOptions request, Buffer payload, int expectedStatus, long measureFrom,
                      long measureTo, AtomicLong ok, AtomicLong failed, List<Double> latencies, CountDownLatch done) {
        long sent = System.nanoTime();
        if (sent >= measureTo) {
            done.countDown();
            return;
        }
        client.request(request)
                .compose(req -> req.send(payload))
                .compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(ar -> {
                    long now = System.nanoTime();
                    if (now >= measureFrom && now < measureTo) {
                        if (ar.succeeded() && ar.result() == expectedStatus) {
                            ok.incrementAndGet();
                            latencies.add((now - sent) / 1e6);
                        } else {
                            failed.incrementAndGet();
                        }
                    }
                    loop(client, request, payload, expectedStatus, measureFrom, measureTo, ok, failed, latencies, done);
                });
    }
}
