package dev.oneway.engine.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TorchNoiseTest {

    @Test
    void mersenneTwisterMatchesTheReferenceSequence() {
        // std::mt19937 with its default seed 5489: the 10000th output is 4123659995 (C++ standard, [rand.predef])
        TorchNoise.MersenneTwister mt = new TorchNoise.MersenneTwister(5489);
        int value = 0;
        for (int i = 0; i < 10000; i++) {
            value = mt.next();
        }
        assertEquals(4123659995L, Integer.toUnsignedLong(value));
    }

    @Test
    void sameSeedSameNoiseDifferentSeedDifferentNoise() {
        assertArrayEquals(TorchNoise.randn(42, 256), TorchNoise.randn(42, 256));
        assertFalse(Arrays.equals(TorchNoise.randn(42, 256), TorchNoise.randn(43, 256)));
    }

    @Test
    void noiseIsStandardNormal() {
        float[] x = TorchNoise.randn(1, 4 * 64 * 64 + 5); // not a multiple of 16: exercises the tail rule
        double mean = Arrays.stream(toDouble(x)).average().orElseThrow();
        double var = Arrays.stream(toDouble(x)).map(v -> (v - mean) * (v - mean)).average().orElseThrow();
        assertEquals(0, mean, 0.03);
        assertEquals(1, var, 0.05);
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
