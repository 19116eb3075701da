package dev.oneway.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void withoutItsThreadingEnvironmentTheBenchAsksForBoth() {
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"),
                BenchCommand.missingEnvironment(Map.of()));
    }

    @Test
    void otherTunablesAreKeptAndAPassiveWaitIsAccepted() {
        assertEquals(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
                BenchCommand.missingEnvironment(Map.of("OMP_WAIT_POLICY", "passive", "GLIBC_TUNABLES", "glibc.malloc.arena_max=2")));
    }

    @Test
    void aSpinningWaitPolicyIsReplaced() {
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE"),
                BenchCommand.missingEnvironment(Map.of("OMP_WAIT_POLICY", "ACTIVE", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")));
    }
}
