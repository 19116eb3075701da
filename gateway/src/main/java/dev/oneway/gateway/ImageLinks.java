package dev.oneway.gateway;

import dev.oneway.common.ImageResult;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MinioClient;
import io.minio.http.Method;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Fresh presigned GET URLs for finished images, so the bucket stays private and a link a client
 * holds stops working after ONEWAY_PRESIGN_EXPIRY_SECONDS.
 */
final class ImageLinks {

    record ImageLink(String url, Instant expiresAt) { }

    /** S3 signature V4 refuses longer lifetimes. */
    private static final int MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

    private final Vertx vertx;
    private final MinioClient client;
    private final int expirySeconds;

    ImageLinks(Vertx vertx, OnewayConfig config) {
        this.vertx = vertx;
        this.expirySeconds = config.getInt(Setting.PRESIGN_EXPIRY_SECONDS);
        if (expirySeconds > MAX_EXPIRY_SECONDS) {
            throw new IllegalArgumentException("ONEWAY_PRESIGN_EXPIRY_SECONDS must be at most " + MAX_EXPIRY_SECONDS);
        }
        String publicEndpoint = config.get(Setting.S3_PUBLIC_ENDPOINT);
        // The URL is signed for the host the client will use; an explicit region keeps the client from
        // asking the server for it, so presigning stays a local computation.
        this.client = MinioClient.builder()
                .endpoint(publicEndpoint.isEmpty() ? config.get(Setting.S3_ENDPOINT) : publicEndpoint)
                .credentials(config.get(Setting.S3_ACCESS_KEY), config.get(Setting.S3_SECRET_KEY))
                .region(config.get(Setting.S3_REGION))
                .build();
    }

    Future<ImageLink> linkFor(ImageResult image) {
        return vertx.executeBlocking(() -> {
            Instant expiresAt = Instant.now().plusSeconds(expirySeconds).truncatedTo(ChronoUnit.SECONDS);
            String url = client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Method.GET)
                    .bucket(image.bucket())
                    .object(image.objectKey())
                    .expiry(expirySeconds)
                    .build());
            return new ImageLink(url, expiresAt);
        }, false);
    }
}
