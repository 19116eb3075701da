package dev.oneway.bench;

import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The gateway's Kafka broker (argument "kafka") or S3 server ("s3") in a JVM of its own, as in a deployment:
 * prints "READY address=..." and stops when stdin closes.
 */
public final class InfraProcess {

    static final String ACCESS_KEY = "oneway";
    static final String SECRET_KEY = "oneway-secret";

    public static void main(String[] args) throws Exception {
        Path data = Files.createTempDirectory("oneway-bench-" + args[0] + "-");
        AutoCloseable server;
        String address;
        if (args[0].equals("kafka")) {
            EmbeddedKafka kafka = new EmbeddedKafka(data).start();
            server = kafka;
            address = kafka.bootstrapServers();
        } else {
            EmbeddedS3 s3 = new EmbeddedS3(data, ACCESS_KEY, SECRET_KEY).start();
            server = s3::stop;
            address = s3.endpoint();
        }
        System.out.println("READY address=" + address);
        while (System.in.read() >= 0) {
            // until stdin closes
        }
        server.close();
        System.exit(0);
    }
}
