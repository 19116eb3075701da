package dev.oneway.standalone.faults;

import dev.oneway.embedded.EmbeddedS3;
import java.nio.file.Path;

/**
 * An S3 server (S3Proxy over a folder) as a process of its own: {@code S3ServerMain <data dir> <port> <access key>
 * <secret key>}. Killed and started again with the same arguments it serves the same objects on the same port.
 */
public final class S3ServerMain {
    private S3ServerMain() { }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedS3 s3 = new EmbeddedS3(Path.of(args[0]), args[2], args[3], Integer.parseInt(args[1])).start();
        System.out.println("S3 server ready at " + s3.endpoint());
        Thread.currentThread().join();
    }
}
