package dev.oneway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the command line does before (or without) a gateway: usage errors exit 2 and say what is wrong;
 * an unreachable gateway exits 1. The commands against a real system are tested in the standalone module.
 */
class OnewayCliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return new OnewayCli(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of()).run(args);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpPrintsTheUsage() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("oneway generate \"PROMPT\""));
    }

    @Test
    void aMissingPromptIsAUsageError() {
        assertEquals(2, run("generate"));
        assertTrue(err().contains("generate takes one prompt"), err());
    }

    @Test
    void aNonNumericSizeIsAUsageError() {
        assertEquals(2, run("generate", "a red fox", "--width", "wide"));
        assertTrue(err().contains("--width takes an integer, got 'wide'"), err());
    }

    @Test
    void anUnknownCommandOrOptionIsAUsageError() {
        assertEquals(2, run("paint", "a red fox"));
        assertTrue(err().contains("unknown command 'paint'"), err());
        assertEquals(2, run("status", "some-id", "--seed", "3"));
        assertTrue(err().contains("unknown option --seed for status"), err());
    }

    @Test
    void anUnreachableGatewayIsAFailureNamingIt() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }

        assertEquals(1, run("status", "3f1c9a1e-5b7d-4e0f-9c61-2b8f3d6a7e10", "--server", "http://127.0.0.1:" + port));
        assertTrue(err().contains("cannot reach http://127.0.0.1:" + port), err());
    }

    @Test
    void theProgressBarFillsWithTheStagesDone() {
        assertEquals("[....................]   0%", OnewayCli.progressBar(0, 4));
        assertEquals("[##########..........]  50%", OnewayCli.progressBar(2, 4));
        assertEquals("[####################] 100%", OnewayCli.progressBar(4, 4));
    }

    @Test
    void aWebhookGoesIntoTheJob() {
        OnewayCli.Options options = OnewayCli.Options.parse(new String[] {"generate", "a fox", "--webhook",
                "https://hooks.example.com/x"});
        assertEquals("https://hooks.example.com/x", options.job.path("webhook").asText());
    }
}
