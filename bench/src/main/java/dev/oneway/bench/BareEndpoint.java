package dev.oneway.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The yardstick of the gateway parts: a Vert.x HTTP server that reads the body and answers 202, deployed as the
 * gateway is, one instance per core on one shared port.
 */
final class BareEndpoint extends VerticleBase {

    private final int port;
    private volatile int actualPort;

    private BareEndpoint(int port) {
        this.port = port;
    }

    @Override
    public Future<?> start() {
        return vertx.createHttpServer()
                .requestHandler(request -> request.body().onSuccess(body -> request.response()
                        .setStatusCode(202)
                        .putHeader("Content-Type", "application/json; charset=utf-8")
                        .end("{\"status\":\"queued\"}")))
                .listen(port)
                .onSuccess(server -> actualPort = server.actualPort());
    }

    /** Deploys one instance per core on a free port (a negative port: shared by the instances); the port. */
    static Future<Integer> deploy(Vertx vertx) {
        List<BareEndpoint> instances = new CopyOnWriteArrayList<>();
        int cores = Runtime.getRuntime().availableProcessors();
        return vertx.deployVerticle(() -> {
            BareEndpoint endpoint = new BareEndpoint(-1);
            instances.add(endpoint);
            return endpoint;
        }, new DeploymentOptions().setInstances(cores)).map(id -> instances.get(0).actualPort);
    }

    /** A JVM of its own with only the bare endpoint: prints "READY port=PORT", stops when stdin closes. */
    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        int port = deploy(vertx).toCompletionStage().toCompletableFuture().get();
        System.out.println("READY port=" + port);
        while (System.in.read() >= 0) {
            // until stdin closes
        }
        System.exit(0);
    }
}
