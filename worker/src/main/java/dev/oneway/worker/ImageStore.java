package dev.oneway.worker;

import dev.oneway.common.ImageResult;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.OnewayConfig;
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
 * worker executor. A redelivered job writes the same key again, so a retry replaces rather than duplicates.
 */
final class ImageStore {

    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    private static final String PNG = "image/png";
    private static final int ATTEMPTS = 4;

    private final MinioClient client;
    private final String bucket;

    ImageStore(OnewayConfig config) {
        this.client = MinioClient.builder()
                .endpoint(config.get(Setting.S3_ENDPOINT))
                .region(config.get(Setting.S3_REGION))
                .credentials(config.get(Setting.S3_ACCESS_KEY), config.get(Setting.S3_SECRET_KEY))
                .build();
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

    /** Uploads with a few retries, because a storage hiccup should not cost a finished image. */
    ImageResult put(String tenant, String jobId, byte[] png, int width, int height) throws Exception {
        String key = Topics.imageObjectKey(tenant, jobId);
        Exception last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                        .stream(new ByteArrayInputStream(png), png.length, -1)
                        .contentType(PNG)
                        .build());
                return new ImageResult(bucket, key, PNG, width, height, png.length);
            } catch (ErrorResponseException e) {
                if ("NoSuchBucket".equals(e.errorResponse().code())) {
                    ensureBucket();
                }
                last = e;
            } catch (Exception e) {
                last = e;
            }
            try (JobLogContext ignored = JobLogContext.of(jobId, tenant)) {
                LOG.warn("Upload of {} failed (attempt {}/{}): {}", key, attempt, ATTEMPTS, last.toString());
            }
            Thread.sleep(250L << attempt);
        }
        throw last;
    }
}
