package dev.oneway.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3-compatible server (S3Proxy over jclouds' filesystem blob store) inside this JVM. Buckets are
 * folders and objects files under the data folder, so objects survive a restart. Requests must be
 * signed (AWS V2 or V4, which covers presigned URLs) with the given access and secret key.
 */
public final class EmbeddedS3 implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedS3.class);

    private final Path baseDir;
    private final String accessKey;
    private final String secretKey;
    private int port;
    private S3Proxy proxy;
    private BlobStoreContext context;

    /** A server on a free port chosen at the first start. */
    public EmbeddedS3(Path dataDir, String accessKey, String secretKey) {
        this(dataDir, accessKey, secretKey, 0);
    }

    /** A server on the given port; 0 means a free port chosen at the first start. */
    public EmbeddedS3(Path dataDir, String accessKey, String secretKey, int port) {
        this.baseDir = dataDir.toAbsolutePath().resolve("s3");
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.port = port;
    }

    public synchronized EmbeddedS3 start() {
        if (proxy != null) {
            return this;
        }
        if (port == 0) {
            port = FreePorts.next();
        }
        try {
            Files.createDirectories(baseDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create S3 data folder " + baseDir, e);
        }
        Properties overrides = new Properties();
        overrides.setProperty("jclouds.filesystem.basedir", baseDir.toString());
        BlobStoreContext newContext = ContextBuilder.newBuilder("filesystem")
                .credentials(accessKey, secretKey)
                .overrides(overrides)
                .build(BlobStoreContext.class);
        S3Proxy newProxy = S3Proxy.builder()
                .blobStore(newContext.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                // Jetty's default of 200 threads is sized for a shared server, not one embedded store.
                .jettyMaxThreads(32)
                .build();
        try {
            newProxy.start();
            while (!AbstractLifeCycle.STARTED.equals(newProxy.getState())) {
                if (AbstractLifeCycle.FAILED.equals(newProxy.getState())) {
                    throw new IllegalStateException("S3Proxy failed to start on port " + port);
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopQuietly(newProxy, newContext);
            throw new IllegalStateException("interrupted while starting S3Proxy", e);
        } catch (Exception e) {
            stopQuietly(newProxy, newContext);
            throw new IllegalStateException("embedded S3 server did not start on port " + port, e);
        }
        proxy = newProxy;
        context = newContext;
        LOG.info("Embedded S3 server ready at {} (objects in {})", endpoint(), baseDir);
        return this;
    }

    /** The URL S3 clients talk to, e.g. http://127.0.0.1:40123. */
    public synchronized String endpoint() {
        if (port == 0) {
            throw new IllegalStateException("the S3 server has no port before its first start");
        }
        return "http://127.0.0.1:" + port;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public synchronized boolean isRunning() {
        return proxy != null;
    }

    /** Stops serving; objects and the port stay for {@link #start()}. */
    public synchronized void stop() {
        if (proxy == null) {
            return;
        }
        stopQuietly(proxy, context);
        proxy = null;
        context = null;
        LOG.info("Embedded S3 server on port {} stopped", port);
    }

    public synchronized void restart() {
        stop();
        start();
    }

    @Override
    public void close() {
        stop();
    }

    private static void stopQuietly(S3Proxy p, BlobStoreContext c) {
        try {
            p.stop();
        } catch (Exception e) {
            LOG.warn("S3Proxy did not stop cleanly", e);
        }
        c.close();
    }
}
