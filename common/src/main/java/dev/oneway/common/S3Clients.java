package dev.oneway.common;

import io.minio.MinioClient;
import io.minio.http.HttpUtils;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;

/**
 * The one way Oneway builds an S3/MinIO client that talks to ONEWAY_S3_ENDPOINT. Its sockets send at once
 * (TCP_NODELAY): with Nagle's algorithm the last segment of an upload waited for the server's delayed ACK,
 * which made every PNG upload take about 45 ms more than it needs (48 ms against 3-5 ms for an 11 KB object
 * on the embedded server).
 */
public final class S3Clients {
    private S3Clients() { }

    private static final long DEFAULT_TIMEOUT_MS = TimeUnit.MINUTES.toMillis(5);

    public static MinioClient client(OnewayConfig config) {
        return client(config, DEFAULT_TIMEOUT_MS);
    }

    /** @param timeoutMs connect, write and read timeout of each request */
    public static MinioClient client(OnewayConfig config, long timeoutMs) {
        return MinioClient.builder()
                .endpoint(config.get(Setting.S3_ENDPOINT))
                .region(config.get(Setting.S3_REGION))
                .credentials(config.get(Setting.S3_ACCESS_KEY), config.get(Setting.S3_SECRET_KEY))
                .httpClient(HttpUtils.newDefaultHttpClient(timeoutMs, timeoutMs, timeoutMs).newBuilder()
                        .socketFactory(new NoDelaySockets(SocketFactory.getDefault()))
                        .build())
                .build();
    }

    private static final class NoDelaySockets extends SocketFactory {
        private final SocketFactory plain;

        NoDelaySockets(SocketFactory plain) {
            this.plain = plain;
        }

        private static Socket noDelay(Socket socket) throws IOException {
            socket.setTcpNoDelay(true);
            return socket;
        }

        @Override
        public Socket createSocket() throws IOException {
            return noDelay(plain.createSocket());
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return noDelay(plain.createSocket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return noDelay(plain.createSocket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return noDelay(plain.createSocket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            return noDelay(plain.createSocket(address, port, localAddress, localPort));
        }
    }
}
