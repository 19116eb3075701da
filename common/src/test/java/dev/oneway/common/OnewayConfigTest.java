package dev.oneway.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OnewayConfigTest {

    @Test
    void environmentOverridesDefaults() {
        OnewayConfig config = OnewayConfig.from(Map.of("ONEWAY_HTTP_PORT", "9090", "ONEWAY_API_KEYS", "alpha:key-1,beta:key-2"));
        assertEquals(9090, config.getInt(Setting.HTTP_PORT));
        assertEquals(Setting.JOBS_TOPIC.defaultValue(), config.get(Setting.JOBS_TOPIC));
        assertEquals(Map.of("key-1", "alpha", "key-2", "beta"), config.apiKeys());
    }

    @Test
    void batchInvarianceIsAutoTrueOrFalse() {
        assertEquals(null, OnewayConfig.from(Map.of()).batchInvariant());
        assertEquals(Boolean.TRUE, OnewayConfig.from(Map.of("ONEWAY_BATCH_INVARIANT", "true")).batchInvariant());
        assertEquals(Boolean.FALSE, OnewayConfig.from(Map.of("ONEWAY_BATCH_INVARIANT", "FALSE")).batchInvariant());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnewayConfig.from(Map.of("ONEWAY_BATCH_INVARIANT", "yes")));
        assertTrue(e.getMessage().contains("ONEWAY_BATCH_INVARIANT"), e.getMessage());
    }

    @Test
    void httpInstancesAreAutoForOnePerCoreOrAPositiveNumber() {
        assertEquals(Runtime.getRuntime().availableProcessors(), OnewayConfig.from(Map.of()).httpInstances());
        assertEquals(3, OnewayConfig.from(Map.of("ONEWAY_HTTP_INSTANCES", "3")).httpInstances());
        for (String bad : new String[] {"0", "-2", "many", "99999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OnewayConfig.from(Map.of("ONEWAY_HTTP_INSTANCES", bad)), bad);
            assertTrue(e.getMessage().contains("ONEWAY_HTTP_INSTANCES"), e.getMessage());
        }
    }

    @Test
    void maxBatchPixelsIsEmptyForTheDevicesDefaultOrALimit() {
        assertTrue(OnewayConfig.from(Map.of()).maxBatchPixels().isEmpty());
        assertEquals(0L, OnewayConfig.from(Map.of("ONEWAY_MAX_BATCH_PIXELS", "0")).maxBatchPixels().getAsLong());
        assertEquals(262144L, OnewayConfig.from(Map.of("ONEWAY_MAX_BATCH_PIXELS", " 262144 ")).maxBatchPixels().getAsLong());
        for (String bad : new String[] {"-1", "a lot", "1e6"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OnewayConfig.from(Map.of("ONEWAY_MAX_BATCH_PIXELS", bad)), bad);
            assertTrue(e.getMessage().contains("ONEWAY_MAX_BATCH_PIXELS"), e.getMessage());
        }
    }

    @Test
    void badValuesAreRefusedWithTheVariableName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnewayConfig.from(Map.of("ONEWAY_MAX_BATCH_SIZE", "eight")));
        assertTrue(e.getMessage().contains("ONEWAY_MAX_BATCH_SIZE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OnewayConfig.from(Map.of("ONEWAY_API_KEYS", "alpha")));
        assertTrue(e.getMessage().contains("ONEWAY_API_KEYS"), e.getMessage());
        assertTrue(!e.getMessage().contains("alpha"), "never echo key material");
    }

    @Test
    void httpPortsMayBeZeroForAnyFreePortButOtherNumbersMayNot() {
        OnewayConfig config = OnewayConfig.from(Map.of("ONEWAY_HTTP_PORT", "0", "ONEWAY_WORKER_HTTP_PORT", "0"));
        assertEquals(0, config.getInt(Setting.HTTP_PORT));
        assertEquals(0, config.getInt(Setting.WORKER_HTTP_PORT));
        assertThrows(IllegalArgumentException.class, () -> OnewayConfig.from(Map.of("ONEWAY_MAX_BATCH_SIZE", "0")));
    }

    @Test
    void keysAreHiddenWhenTheConfigIsPrinted() {
        String shown = OnewayConfig.from(Map.of("ONEWAY_API_KEYS", "alpha:secret-key")).toString();
        assertTrue(!shown.contains("secret-key"), shown);
    }

    @Test
    void modelsComeFromOnewayModelsElseTheModelDirElseTheTwoGeneratedOnes() {
        OnewayConfig none = OnewayConfig.from(Map.of());
        assertEquals(Map.of("tiny-sd15", "tiny:sd15", "tiny-sd21", "tiny:sd21"), none.models());
        assertEquals("tiny-sd15", none.defaultModel());
        assertEquals(java.util.List.of("oneway.jobs.tiny-sd15", "oneway.jobs.tiny-sd21"), Topics.jobs(none));
        assertEquals("oneway-workers.tiny-sd21", Topics.consumerGroup(none, "tiny-sd21"));

        OnewayConfig dir = OnewayConfig.from(Map.of("ONEWAY_MODEL_DIR", "/models/loopfree-sd15"));
        assertEquals(Map.of("loopfree-sd15", "/models/loopfree-sd15"), dir.models());

        OnewayConfig two = OnewayConfig.from(Map.of("ONEWAY_MODELS", "sd15=/m/a, sd21=/m/b", "ONEWAY_MODEL_DIR", "/ignored",
                "ONEWAY_DEFAULT_MODEL", "sd21"));
        assertEquals(java.util.List.of("sd15", "sd21"), java.util.List.copyOf(two.models().keySet()));
        assertEquals("/m/b", two.models().get("sd21"));
        assertEquals("sd21", two.defaultModel());
        assertEquals(java.util.List.of("sd15", "sd21"),
                java.util.List.copyOf(OnewayConfig.from(Map.of("ONEWAY_MODELS", "sd15,sd21")).models().keySet()),
                "a gateway needs only the names");
    }

    @Test
    void badModelSettingsAreRefusedWithTheVariableName() {
        for (Map<String, String> bad : java.util.List.of(
                Map.of("ONEWAY_MODELS", "SD 1.5=/m/a"),
                Map.of("ONEWAY_MODELS", "a=/m/a,a=/m/b"),
                Map.of("ONEWAY_MODELS", "a=/m/a", "ONEWAY_DEFAULT_MODEL", "b"),
                Map.of("ONEWAY_MODELS", "dead=/m/a"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnewayConfig.from(bad));
            assertTrue(e.getMessage().contains("ONEWAY_MODELS") || e.getMessage().contains("ONEWAY_DEFAULT_MODEL"), e.getMessage());
        }
    }

    @Test
    void readmeDocumentsEverySettingWithItsDefault() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (Setting s : Setting.values()) {
            String shown = s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`";
            String row = "| `" + s.envName() + "` | " + shown + " |";
            assertTrue(readme.contains(row), "README.md lacks the row starting " + row);
        }
    }
}
