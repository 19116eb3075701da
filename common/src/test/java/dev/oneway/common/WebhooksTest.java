package dev.oneway.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhooksTest {

    /** The example of the Standard Webhooks reference libraries' tests (secret, id, timestamp, payload, signature). */
    @Test
    void theSignatureIsStandardWebhooksV1() {
        String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assertEquals("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                Webhooks.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330L, "{\"test\": 2432232314}"));
    }

    @Test
    void onlyPublicAddressesArePublic() throws Exception {
        for (String address : List.of("127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254",
                "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd12:3456::1",
                "::ffff:10.0.0.1", "::ffff:127.0.0.1")) {
            assertFalse(Webhooks.isPublic(InetAddress.getByName(address)), address);
        }
        for (String address : List.of("93.184.216.34", "8.8.8.8", "100.128.0.1", "172.32.0.1", "2606:4700::1111")) {
            assertTrue(Webhooks.isPublic(InetAddress.getByName(address)), address);
        }
        String problem = Webhooks.problemWithAddresses("hooks.example",
                new InetAddress[] {InetAddress.getByName("93.184.216.34"), InetAddress.getByName("10.0.0.7")});
        assertNotNull(problem);
        assertTrue(problem.contains("10.0.0.7"), problem);
    }

    @Test
    void webhookUrlsMustBeHttpWithAHostAndNoCredentials() {
        assertNull(Webhooks.problemWithUrl("https://hooks.example.com/oneway?x=1"));
        assertNull(Webhooks.problemWithUrl("http://[2606:4700::1111]:8443/h"));
        for (String bad : List.of("ftp://example.com/", "example.com/hook", "https:///x", "http://u:p@example.com/",
                "http://example.com/#frag", "http://exa mple.com/", "https://example.com/" + "x".repeat(2048))) {
            assertNotNull(Webhooks.problemWithUrl(bad), bad);
        }
        assertEquals("2606:4700::1111", Webhooks.host("http://[2606:4700::1111]:8443/h"));
        assertEquals(8443, Webhooks.port("http://[2606:4700::1111]:8443/h"));
        assertEquals(443, Webhooks.port("https://example.com/h"));
        assertEquals(80, Webhooks.port("http://example.com/h"));
    }

    @Test
    void configuredSecretsWinAndOtherTenantsGetOneDerivedFromTheirFirstKey() {
        String configured = "whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[32]);
        OnewayConfig config = OnewayConfig.from(Map.of("ONEWAY_API_KEYS", "alpha:key-a,beta:key-b,beta:key-b2",
                "ONEWAY_WEBHOOK_SECRETS", "alpha=" + configured));
        Map<String, String> secrets = Webhooks.secrets(config);
        assertEquals(configured, secrets.get("alpha"));
        assertEquals(Webhooks.derivedSecret("key-b"), secrets.get("beta"));
        assertEquals(32, Webhooks.secretBytes(secrets.get("beta")).length);
        assertNotEquals(Webhooks.derivedSecret("key-a"), Webhooks.derivedSecret("key-b"));
        assertFalse(config.toString().contains(configured), "secrets are not printed");
    }

    @Test
    void badSecretsAndSwitchesStopTheProcessNamingTheVariable() {
        for (String bad : List.of("alpha=nothex", "alpha=whsec_!!!", "alpha=whsec_AAAA", "=whsec_x", "alpha")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OnewayConfig.from(Map.of("ONEWAY_WEBHOOK_SECRETS", bad)));
            assertTrue(e.getMessage().contains("ONEWAY_WEBHOOK_SECRETS"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnewayConfig.from(Map.of("ONEWAY_WEBHOOK_ALLOW_PRIVATE", "yes")));
        assertTrue(e.getMessage().contains("ONEWAY_WEBHOOK_ALLOW_PRIVATE"), e.getMessage());
        assertTrue(OnewayConfig.from(Map.of("ONEWAY_WEBHOOK_ALLOW_PRIVATE", "true")).webhookAllowPrivate());
        assertFalse(OnewayConfig.from(Map.of()).webhookAllowPrivate());
    }

    @Test
    void jobsAndEventsCarryTheNewFieldsThroughTheirJsonForm() {
        JobRequest job = new JobRequest("3f1c9a1e-5b7d-4e0f-9c61-2b8f3d6a7e10", "alpha", "a fox", 1, 64, 64, 4, "tiue",
                java.time.Instant.parse("2025-06-01T12:00:00.123Z"), null, JobRequest.DEFAULT_DECODER, true,
                "https://hooks.example.com/x");
        assertEquals(job, JobRequest.fromJson(job.toJson()));
        JobRequest plain = new JobRequest(job.id(), "alpha", "a fox", 1, 64, 64, 4, "tiue", job.createdAt());
        assertFalse(plain.toJson().containsKey("previews") || plain.toJson().containsKey("webhook"));
        JobEvent terminal = JobEvent.canceled(job.id(), "alpha").withWebhookOf(job);
        assertEquals(terminal, JobEvent.fromJson(terminal.toJson()));
        assertEquals("https://hooks.example.com/x", terminal.webhook().getString("url"));
        assertEquals(JobEvent.canceled(job.id(), "alpha", terminal.at()), JobEvent.canceled(job.id(), "alpha", terminal.at())
                .withWebhookOf(plain));
        JobEvent preview = JobEvent.preview(job, 2, 4, 8, 8, "AAAA");
        assertEquals(preview, JobEvent.fromJson(preview.toJson()));
        assertEquals("running", preview.toJson().getString("status"));
    }
}
