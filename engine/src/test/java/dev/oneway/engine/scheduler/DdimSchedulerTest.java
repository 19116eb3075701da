package dev.oneway.engine.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.TorchRuntime;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DdimSchedulerTest {

    static float[] scaledLinearBetas() {
        float[] betas = new float[1000];
        for (int i = 0; i < 1000; i++) {
            double s = Math.sqrt(0.00085) + i / 999.0 * (Math.sqrt(0.012) - Math.sqrt(0.00085));
            betas[i] = (float) (s * s);
        }
        return betas;
    }

    static DdimScheduler sd(String spacing, String prediction) {
        return new DdimScheduler(1000, scaledLinearBetas(), false, spacing, 1, prediction, false, 1f);
    }

    @Test
    void timestepsMatchDiffusersForEverySpacing() {
        assertArrayEquals(new int[] {751, 501, 251, 1}, sd("leading", "epsilon").timesteps(4));
        assertArrayEquals(new int[] {1}, sd("leading", "epsilon").timesteps(1));
        // trailing with steps_offset 1: np.round(np.arange(1000, 0, -250)) - 1
        assertArrayEquals(new int[] {999, 749, 499, 249}, sd("trailing", "epsilon").timesteps(4));
        assertArrayEquals(new int[] {999, 666, 333, 0}, sd("linspace", "epsilon").timesteps(4));
    }

    /** The loop-free sampler's K updates equal K DDIM steps written out here from the alphas. */
    @Test
    void loopFreeUpdatesEqualSuccessiveDdimStepsFromTheAlphas() {
        DdimScheduler scheduler = sd("leading", "epsilon");
        float[] betas = scaledLinearBetas();
        double[] alphaBar = new double[1000];
        double product = 1;
        for (int i = 0; i < 1000; i++) {
            product *= 1 - betas[i];
            alphaBar[i] = product;
        }
        int k = 4;
        int n = 2 * 4 * 3 * 3;
        Random random = new Random(7);
        double[] z = new double[n];
        float[] zf = new float[n];
        double[][] eps = new double[k][n];
        float[] epsAll = new float[k * n];
        for (int i = 0; i < n; i++) {
            z[i] = random.nextGaussian();
            zf[i] = (float) z[i];
        }
        for (int s = 0; s < k; s++) {
            for (int i = 0; i < n; i++) {
                eps[s][i] = (float) random.nextGaussian();
                epsAll[s * n + i] = (float) eps[s][i];
            }
        }
        int[] ts = {751, 501, 251, 1};
        for (int s = 0; s < k; s++) {
            double a = alphaBar[ts[s]];
            double aPrev = ts[s] - 250 >= 0 ? alphaBar[ts[s] - 250] : alphaBar[0]; // set_alpha_to_one = false
            for (int i = 0; i < n; i++) {
                double x0 = (z[i] - Math.sqrt(1 - a) * eps[s][i]) / Math.sqrt(a);
                z[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps[s][i];
            }
        }
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray latents = m.create(zf, new Shape(2, 4, 3, 3));
            NDArray predictions = m.create(epsAll, new Shape(k * 2, 4, 3, 3));
            int[] timesteps = scheduler.timesteps(k);
            for (int s = 0; s < k; s++) {
                latents = scheduler.step(predictions.get(s * 2 + ":" + (s * 2 + 2)), timesteps[s], k, latents);
            }
            float[] got = latents.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(z[i], got[i], 1e-4 * Math.max(1, Math.abs(z[i])), "element " + i);
            }
        }
    }

    @Test
    void vPredictionRecoversTheCleanSampleFromAnExactVelocity() {
        DdimScheduler scheduler = sd("leading", "v_prediction");
        float a = scheduler.alphaCumprod(501);
        float x0 = 0.8f;
        float noise = -1.3f;
        float zt = (float) (Math.sqrt(a) * x0 + Math.sqrt(1 - a) * noise);
        float v = (float) (Math.sqrt(a) * noise - Math.sqrt(1 - a) * x0);
        float aPrev = scheduler.alphaCumprodPrev(501, 4);
        double expected = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * noise;
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray next = scheduler.step(m.create(new float[] {v}), 501, 4, m.create(new float[] {zt}));
            assertEquals(expected, next.getFloat(0), 1e-5);
        }
    }
}
