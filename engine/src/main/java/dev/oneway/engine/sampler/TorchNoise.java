package dev.oneway.engine.sampler;

/**
 * Gaussian noise from a seed, the recipe of torch.randn(..., generator=torch.Generator("cpu")
 * .manual_seed(seed)) for float32: a 32-bit Mersenne Twister, 24-bit uniforms, and Box-Muller over blocks
 * of 16. The uniforms are torch's exactly; the normals agree to about one float ulp, since torch takes
 * log and cos in float (vectorized) where this takes them in double (ParityTest checks it against torch). So a seed here gives the starting latent a diffusers user gets with a CPU generator, and a job's
 * noise never depends on which jobs share its batch.
 */
public final class TorchNoise {
    private TorchNoise() { }

    public static float[] randn(long seed, int count) {
        MersenneTwister mt = new MersenneTwister(seed);
        float[] data = new float[count];
        if (count < 16) {
            // torch switches to a different (scalar, double) recipe below 16 values; latents never are that small
            throw new IllegalArgumentException("noise needs at least 16 values, got " + count);
        }
        for (int i = 0; i < count; i++) {
            data[i] = uniform24(mt);
        }
        for (int i = 0; i + 16 <= count; i += 16) {
            boxMuller16(data, i);
        }
        if (count % 16 != 0) {
            int start = count - 16;
            for (int i = 0; i < 16; i++) {
                data[start + i] = uniform24(mt);
            }
            boxMuller16(data, start);
        }
        return data;
    }

    private static float uniform24(MersenneTwister mt) {
        return (mt.next() & ((1 << 24) - 1)) * (1.0f / (1 << 24));
    }

    private static void boxMuller16(float[] data, int offset) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1 - data[offset + j];
            float u2 = data[offset + j + 8];
            float radius = (float) Math.sqrt(-2 * Math.log(u1));
            float theta = (float) (2.0 * Math.PI * u2);
            data[offset + j] = radius * (float) Math.cos(theta);
            data[offset + j + 8] = radius * (float) Math.sin(theta);
        }
    }

    /** MT19937 as std::mt19937 seeded with the low 32 bits of the seed (torch's CPU generator). */
    static final class MersenneTwister {
        private final int[] state = new int[624];
        private int index = 624;

        MersenneTwister(long seed) {
            state[0] = (int) seed;
            for (int i = 1; i < 624; i++) {
                state[i] = 1812433253 * (state[i - 1] ^ (state[i - 1] >>> 30)) + i;
            }
        }

        int next() {
            if (index >= 624) {
                twist();
            }
            int y = state[index++];
            y ^= y >>> 11;
            y ^= (y << 7) & 0x9d2c5680;
            y ^= (y << 15) & 0xefc60000;
            y ^= y >>> 18;
            return y;
        }

        private void twist() {
            for (int i = 0; i < 624; i++) {
                int y = (state[i] & 0x80000000) | (state[(i + 1) % 624] & 0x7fffffff);
                int next = state[(i + 397) % 624] ^ (y >>> 1);
                if ((y & 1) != 0) {
                    next ^= 0x9908b0df;
                }
                state[i] = next;
            }
            index = 0;
        }
    }
}
