package dev.oneway.worker;

import dev.oneway.common.ImageResult;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.S3Clients;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.errors.ErrorResponseException;
import java.io.ByteArrayInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finished images in S3/MinIO, one object per job under {@link Topics#imageObjectKey}. Blocking: call it on a
 * worker executor.
 */
final class ImageStore {

    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    private static final String PNG = "image/png";

    private final MinioClient client;
    private final String bucket;

    ImageStore(OnewayConfig config) {
        this.client = S3Clients.client(config);
        this.bucket = config.get(Setting.S3_BUCKET);
    }

    void ensureBucket() throws Exception {
        if (client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
            return;
        }
        try {
            client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            LOG.info("Created bucket {}", bucket);
        } catch (ErrorResponseException e) {
            // Another worker created it between our check and our request.
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                throw e;
            }
        }
    }

    /**
     * One upload try; the worker retries with its {@link RetryPolicy}. A redelivered job writes the same key again, so a
     * retry replaces rather than duplicates.
     */
    ImageResult put(String tenant, String jobId, byte[] png, int width, int height) throws Exception {
        String key = Topics.imageObjectKey(tenant, jobId);
        try {
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                    .stream(new ByteArrayInputStream(png), png.length, -1)
                    .contentType(PNG)
                    .build());
        } catch (ErrorResponseException e) {
            if ("NoSuchBucket".equals(e.errorResponse().code())) {
                ensureBucket(); // the next try finds it
            }
            throw e;
        }
        return new ImageResult(bucket, key, PNG, width, height, png.length);
    }
}
