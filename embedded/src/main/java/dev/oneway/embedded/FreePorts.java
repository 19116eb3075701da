package dev.oneway.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks loopback ports nobody listens on, so several embedded systems can run side by side.
 *
 * <p>The kernel may hand out the same ephemeral port again as soon as the probing socket closes, so two
 * consecutive picks can be equal (a broker then refused "two listeners on the same port"). Every port this
 * process was given is remembered and never given again.
 */
public final class FreePorts {
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private FreePorts() { }

    /** A loopback port that is free now and was not returned before in this process. */
    public static int next() {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = probe();
            if (GIVEN.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no loopback port left that this process has not used already");
    }

    private static int probe() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
