package dev.oneway.gateway;

import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One real Kafka broker and one real S3 server for the whole test JVM: starting a broker costs
 * seconds, so test classes share it and keep apart by using their own topic names.
 */
final class SharedInfrastructure {

    static final String S3_ACCESS_KEY = "oneway";
    static final String S3_SECRET_KEY = "oneway-secret";
    static final String BUCKET = "oneway-images";

    private static SharedInfrastructure instance;

    final EmbeddedKafka kafka;
    final EmbeddedS3 s3;
    final MinioClient minio;

    private SharedInfrastructure(Path dataDir) throws Exception {
        kafka = new EmbeddedKafka(dataDir).start();
        s3 = new EmbeddedS3(dataDir, S3_ACCESS_KEY, S3_SECRET_KEY).start();
        minio = MinioClient.builder().endpoint(s3.endpoint()).region("us-east-1")
                .credentials(S3_ACCESS_KEY, S3_SECRET_KEY).build();
        minio.makeBucket(MakeBucketArgs.builder().bucket(BUCKET).build());
    }

    static synchronized SharedInfrastructure get() {
        if (instance == null) {
            try {
                Path dataDir = Files.createTempDirectory("oneway-gateway-test");
                instance = new SharedInfrastructure(dataDir);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    instance.s3.close();
                    instance.kafka.close();
                }));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (Exception e) {
                throw new IllegalStateException("could not start the embedded broker and S3 server", e);
            }
        }
        return instance;
    }

    /** Stores an object as a worker would have, so a presigned URL has something to serve. */
    void putImage(String objectKey, byte[] bytes) throws Exception {
        minio.putObject(PutObjectArgs.builder().bucket(BUCKET).object(objectKey)
                .stream(new ByteArrayInputStream(bytes), bytes.length, -1).contentType("image/png").build());
    }
}
