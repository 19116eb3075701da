package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuEnvironmentTest {

    private static final String ALL = "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1"
            + ":glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296";

    @Test
    void anEmptyEnvironmentGetsBothVariables() {
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE", "GLIBC_TUNABLES", ALL), TorchRuntime.missingCpuEnvironment(Map.of()));
        assertEquals(TorchRuntime.CPU_ENVIRONMENT, TorchRuntime.missingCpuEnvironment(Map.of()));
    }

    @Test
    void tunablesAlreadySetKeepTheirValuesAndTheOthersAreAppended() {
        assertEquals(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
                        + ":glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296"),
                TorchRuntime.missingCpuEnvironment(Map.of("OMP_WAIT_POLICY", "passive", "GLIBC_TUNABLES", "glibc.malloc.arena_max=2")));
        // a tunable of another namespace whose name ends the same is not ours
        assertEquals(Map.of("GLIBC_TUNABLES", "glibc.rtld.hugetlb=1:" + ALL),
                TorchRuntime.missingCpuEnvironment(Map.of("OMP_WAIT_POLICY", "PASSIVE", "GLIBC_TUNABLES", "glibc.rtld.hugetlb=1")));
    }

    @Test
    void aCompleteEnvironmentLacksNothingAndASpinningWaitPolicyIsReplaced() {
        assertEquals(Map.of(), TorchRuntime.missingCpuEnvironment(TorchRuntime.CPU_ENVIRONMENT));
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE"),
                TorchRuntime.missingCpuEnvironment(Map.of("OMP_WAIT_POLICY", "ACTIVE", "GLIBC_TUNABLES",
                        "glibc.malloc.hugetlb=0:glibc.malloc.arena_max=4:glibc.malloc.mmap_max=4:glibc.malloc.trim_threshold=1")));
    }
}
