package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.Setting;
import dev.oneway.embedded.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded Kafka broker and S3 server listen where ONEWAY_EMBEDDED_KAFKA_PORT and ONEWAY_EMBEDDED_S3_PORT say,
 * so tools and presigned URLs find them after a restart; a port another process holds stops the start with a
 * message that names the setting. (The documented 9092 and 9000 are never used here: tests run side by side.)
 */
class EmbeddedPortsTest {

    @TempDir
    Path dataDir;

    @Test
    void kafkaAndS3ListenOnTheNamedPortsAndKeepThemAcrossARestart() throws IOException {
        int kafkaPort = FreePorts.next();
        int s3Port = FreePorts.next();
        OnewaySystem.Builder builder = OnewaySystem.builder().dataDir(dataDir).withoutGateway().withoutWorkers()
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.EMBEDDED_KAFKA_PORT, kafkaPort)
                .set(Setting.EMBEDDED_S3_PORT, s3Port);
        for (int start = 1; start <= 2; start++) {
            try (OnewaySystem system = builder.start()) {
                assertEquals("127.0.0.1:" + kafkaPort, system.kafka().bootstrapServers(), "start " + start);
                assertEquals("127.0.0.1:" + kafkaPort, system.config().get(Setting.KAFKA_BOOTSTRAP));
                assertEquals("http://127.0.0.1:" + s3Port, system.s3().endpoint(), "start " + start);
                assertEquals("http://127.0.0.1:" + s3Port, system.config().get(Setting.S3_ENDPOINT));
            }
        }
    }

    @Test
    void aTakenKafkaPortStopsTheStartAndNamesTheSetting() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            OnewaySystem.PortTakenException e = assertThrows(OnewaySystem.PortTakenException.class,
                    () -> OnewaySystem.builder().dataDir(dataDir).set(Setting.HTTP_PORT, 0)
                            .set(Setting.EMBEDDED_KAFKA_PORT, taken.getLocalPort()).start().close());
            assertTrue(e.getMessage().startsWith("ONEWAY_EMBEDDED_KAFKA_PORT=" + taken.getLocalPort() + ": port "
                    + taken.getLocalPort() + " is in use"), e.getMessage());
        }
    }

    @Test
    void theStandaloneRefusesATakenS3PortWithOneLineAndExitCode2() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ProcessBuilder builder = new ProcessBuilder(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dai.djl.offline=true",
                    "-Dlogback.configurationFile=logback.xml", "-cp", System.getProperty("java.class.path"),
                    Standalone.class.getName()));
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(name -> name.startsWith("ONEWAY_"));
            env.put("ONEWAY_HTTP_PORT", "0");
            env.put("ONEWAY_EMBEDDED_KAFKA_PORT", "0");
            env.put("ONEWAY_EMBEDDED_S3_PORT", String.valueOf(taken.getLocalPort()));
            env.put("ONEWAY_DATA_DIR", dataDir.toString());
            builder.redirectErrorStream(true);
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(OnewayClient.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the standalone did not exit: " + output);
            }

            assertEquals(2, process.exitValue(), output);
            assertTrue(output.contains("Oneway did not start: ONEWAY_EMBEDDED_S3_PORT=" + taken.getLocalPort()), output);
            assertTrue(!output.contains("\tat "), "no stack trace: " + output);
        }
    }
}
