package dev.oneway.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import dev.oneway.engine.model.Weights;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript ops against the same arithmetic written out in DJL's own ops (the engine's implementation
 * before it called libtorch's fused kernels), and the property the worker relies on: an image's result does
 * not depend on its batch mates.
 */
class TorchOpsTest {

    static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
        manager.getEngine().setRandomSeed(7);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void groupNormAndSiluMatchTheirDefinitions() {
        NDArray x = manager.randomNormal(new Shape(3, 64, 6, 5)).mul(3f).add(1f);
        NDArray weight = manager.randomNormal(new Shape(64));
        NDArray bias = manager.randomNormal(new Shape(64));
        NDArray grouped = x.reshape(3, 32, -1);
        long size = grouped.getShape().get(2);
        NDArray normalized = LayerNorm.layerNorm(grouped, new Shape(size), manager.ones(new Shape(size)),
                manager.zeros(new Shape(size)), 1e-5f).singletonOrThrow().reshape(x.getShape());
        NDArray expected = normalized.mul(weight.reshape(1, 64, 1, 1)).add(bias.reshape(1, 64, 1, 1));
        GroupNorm norm = new GroupNorm(32, weight, bias, 1e-5f);
        assertClose(expected, norm.forward(x), 1e-5);
        assertClose(expected.mul(expected.getNDArrayInternal().sigmoid()), norm.forwardSilu(x), 1e-5);
        assertClose(x.mul(x.getNDArrayInternal().sigmoid()), Ops.silu(x), 1e-6);
        assertEquals(x.getShape(), norm.forwardSilu(x).getShape());
    }

    @Test
    void gegluIsTheValueHalfTimesTheGeluOfTheGateHalf() {
        NDArray projected = manager.randomNormal(new Shape(2, 7, 24));
        NDArray expected = projected.get("..., :12").mul(projected.get("..., 12:").getNDArrayInternal().gelu());
        assertClose(expected, TorchOps.geglu(projected), 1e-6);
    }

    @Test
    void attentionIsSoftmaxOfScaledScoresTimesValues() {
        int heads = 4;
        NDArray q = manager.randomNormal(new Shape(2, 9, 32));
        NDArray k = manager.randomNormal(new Shape(2, 11, 32));
        NDArray v = manager.randomNormal(new Shape(2, 11, 32));
        NDArray mask = manager.randomNormal(new Shape(1, 1, 9, 11)).mul(5f);
        for (NDArray m : new NDArray[] {null, mask}) {
            NDArray qh = q.reshape(2, 9, heads, 8).transpose(0, 2, 1, 3);
            NDArray kt = k.reshape(2, 11, heads, 8).transpose(0, 2, 3, 1);
            NDArray vh = v.reshape(2, 11, heads, 8).transpose(0, 2, 1, 3);
            NDArray scores = qh.matMul(kt).mul((float) (1 / Math.sqrt(8)));
            if (m != null) {
                scores = scores.add(m);
            }
            NDArray expected = scores.softmax(-1).matMul(vh).transpose(0, 2, 1, 3).reshape(2, 9, 32);
            assertClose(expected, Ops.attention(q, k, v, heads, m), 1e-5);
        }
    }

    @Test
    void packedLinearAndConvolutionMatchTheirPlainDefinitions() {
        LinearCase c = LinearCase.random(320, 256, new Shape(2, 5, 256));
        NDArray x = c.x();
        NDArray expected = c.expected();
        NDArray expectedNoBias = x.matMul(c.w().transpose());
        Linear linear = Linear.of(c.w().duplicate(), c.b());
        Linear noBias = Linear.of(c.w().duplicate(), null);
        assertTrue(linear.packed());
        assertTrue(linear.forward(x).getShape().equals(new Shape(2, 5, 320)));
        assertClose(expected, linear.forward(x), 1e-4);
        assertClose(expectedNoBias, noBias.forward(x), 1e-4);

        NDArray cw = manager.randomNormal(new Shape(64, 128, 3, 3));
        NDArray cb = manager.randomNormal(new Shape(64));
        NDArray image = manager.randomNormal(new Shape(2, 128, 9, 7));
        NDArray plain = image.getNDArrayInternal().convolution(image, cw, cb, new Shape(2, 2), new Shape(1, 1),
                new Shape(1, 1), 1).singletonOrThrow();
        Conv2d conv = Conv2d.of(cw.duplicate(), cb, 2, 1, false);
        assertTrue(conv.packed());
        assertArrayEquals(plain.toFloatArray(), conv.forward(image).toFloatArray());
        assertEquals(plain.getShape(), conv.forward(image).getShape());
    }

    @Test
    void bfloat16LayersAreCloseToFloat32ButNotEqual() {
        LinearCase c = LinearCase.random(256, 320, new Shape(3, 7, 320));
        NDArray x = c.x();
        NDArray expected = c.expected();
        Linear linear = Linear.of(c.w().duplicate(), c.b(), true);
        // a CPU whose oneDNN has no bfloat16 matmul keeps float32 layers (the engine stays correct, only slower)
        assumeTrue(linear.bfloat16(), "no bfloat16 matmul on this CPU");
        assertTrue(linear.packed());
        NDArray actual = linear.forward(x);
        assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, actual.getDataType());
        assertClose(expected, actual, 3e-2 * expected.abs().max().getFloat());
        assertTrue(expected.sub(actual).abs().max().getFloat() > 1e-5f, "bfloat16 rounds: not float32's result");

        NDArray cw = manager.randomNormal(new Shape(64, 128, 3, 3)).mul(0.05f);
        NDArray cb = manager.randomNormal(new Shape(64));
        NDArray image = manager.randomNormal(new Shape(2, 128, 9, 7));
        NDArray plain = image.getNDArrayInternal().convolution(image, cw, cb, new Shape(1, 1), new Shape(1, 1),
                new Shape(1, 1), 1).singletonOrThrow();
        Conv2d conv = Conv2d.of(cw.duplicate(), cb, 1, 1, true, true);
        assumeTrue(conv.bfloat16(), "no bfloat16 convolution on this CPU");
        assertTrue(conv.packed());
        NDArray convolved = conv.forward(image);
        assertClose(plain, convolved, 3e-2 * plain.abs().max().getFloat());
        assertTrue(plain.sub(convolved).abs().max().getFloat() > 1e-5f);
        // batch invariance holds in bfloat16 too
        assertArrayEquals(conv.forward(image.get("1:2")).toFloatArray(), convolved.get("1:2").toFloatArray());
    }

    @Test
    void aLayerWhosePackedKernelDisagreesKeepsThePlainOne() {
        assertTrue(TorchOps.agree(x -> x, x -> x.add(1e-6f), manager, new Shape(4, 8), 1e-4f));
        assertFalse(TorchOps.agree(x -> x, x -> x.mul(2f), manager, new Shape(4, 8), 1e-4f));
        assertFalse(TorchOps.agree(x -> x, x -> x.reshape(8, 4), manager, new Shape(4, 8), 1e-4f));
        // libtorch 2.7.1's packed matmul gave wrong results for 40-160 outputs not a multiple of 64 on the CPU
        // tried; whether this machine's does or not, the layer computes x W^T + b
        for (long out : new long[] {48, 96, 160, 192}) {
            LinearCase c = LinearCase.random(out, 1536, new Shape(7, 1536));
            assertClose(c.expected(), Linear.of(c.w(), c.b()).forward(c.x()), 1e-4);
        }
    }

    @Test
    void anImagesResultDoesNotDependOnItsBatchMates() {
        NDArray x = manager.randomNormal(new Shape(4, 64, 16, 16));
        GroupNorm norm = new GroupNorm(32, manager.randomNormal(new Shape(64)), manager.randomNormal(new Shape(64)), 1e-6f);
        NDArray tokens = manager.randomNormal(new Shape(4, 300, 64));
        NDArray batchNorm = norm.forwardSilu(x);
        Linear linear = Linear.of(manager.randomNormal(new Shape(256, 320)), manager.randomNormal(new Shape(256)));
        NDArray wide = manager.randomNormal(new Shape(4, 300, 320));
        NDArray batchLinear = linear.forward(wide);
        Conv2d conv = Conv2d.of(manager.randomNormal(new Shape(32, 64, 3, 3)).mul(0.05f), manager.randomNormal(new Shape(32)), 1, 1, true);
        NDArray batchConv = conv.forward(x);
        NDArray batchAttention = Ops.attention(tokens, tokens, tokens, 8, null);
        for (int i = 0; i < 4; i++) {
            NDArray one = x.get("{}:{}", i, i + 1);
            assertArrayEquals(norm.forwardSilu(one).toFloatArray(), batchNorm.get("{}:{}", i, i + 1).toFloatArray());
            NDArray t = tokens.get("{}:{}", i, i + 1);
            assertArrayEquals(Ops.attention(t, t, t, 8, null).toFloatArray(),
                    batchAttention.get("{}:{}", i, i + 1).toFloatArray());
            assertArrayEquals(conv.forward(one).toFloatArray(), batchConv.get("{}:{}", i, i + 1).toFloatArray());
            NDArray row = wide.get("{}:{}", i, i + 1);
            assertArrayEquals(linear.forward(row).toFloatArray(), batchLinear.get("{}:{}", i, i + 1).toFloatArray());
        }
    }

    @Test
    void theUpsamplersPhaseConvolutionIsNearestUpsamplingThenA3x3Convolution() {
        NDArray weight = manager.randomNormal(new Shape(48, 48, 3, 3)).mul(0.1f);
        NDArray bias = manager.randomNormal(new Shape(48));
        NDArray x = manager.randomNormal(new Shape(3, 48, 7, 5)); // odd sides: the edges' phases differ
        NDArray expected = x.getNDArrayInternal().convolution(Ops.upsampleNearest2x(x), weight, bias, new Shape(1, 1),
                new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow();
        for (boolean bfloat16 : new boolean[] {false, true}) {
            UpsampleConv2d up = UpsampleConv2d.load(weightsOf(Map.of("weight", weight, "bias", bias), bfloat16), 48);
            assertTrue(up.phases() != null, "computed in phases on the CPU");
            NDArray actual = up.forward(x);
            assertEquals(new Shape(3, 48, 14, 10), actual.getShape());
            if (bfloat16) {
                double scale = expected.abs().max().getFloat();
                assertClose(expected, actual, 0.01 * scale);
            } else {
                assertClose(expected, actual, 1e-4);
            }
            for (int i = 0; i < 3; i++) { // batch-invariant per job, as the convolution it replaces
                assertArrayEquals(up.forward(x.get("{}:{}", i, i + 1)).toFloatArray(), actual.get("{}:{}", i, i + 1).toFloatArray());
            }
        }
    }

    private static Weights weightsOf(Map<String, NDArray> tensors, boolean bfloat16) {
        return new Weights(new Weights.Source() {
            @Override
            public NDArray tensor(String key, long[] expectedShape) {
                return tensors.get(key).duplicate();
            }

            @Override
            public boolean contains(String key) {
                return tensors.containsKey(key);
            }
        }, true, bfloat16);
    }

    @Test
    void aJobsDecoderRowsGiveTheSameConvolutionAloneAsAmongOtherJobsRows() {
        // 3 jobs x K = 4 rows, step-major as the TiUE decoder lays them out: row k * 3 + i is job i's k-th
        int jobs = 3;
        int k = 4;
        NDArray x = manager.randomNormal(new Shape(k * jobs, 64, 12, 12));
        Conv2d conv = Conv2d.of(manager.randomNormal(new Shape(32, 64, 3, 3)).mul(0.05f), manager.randomNormal(new Shape(32)), 1, 1, true);
        NDArray batch = conv.forward(x, jobs);
        assertEquals(new Shape(k * jobs, 32, 12, 12), batch.getShape());
        for (int i = 0; i < jobs; i++) {
            NDArray rows = x.reshape(k, jobs, 64, 12, 12).get(":, {}", i);
            NDArray alone = conv.forward(rows.duplicate(), 1);
            assertArrayEquals(alone.toFloatArray(), batch.reshape(k, jobs, 32, 12, 12).get(":, {}", i).toFloatArray(),
                    "job " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> conv.forward(x, 5));
    }

    @Test
    void theModuleArchiveLoadsOnceAndServesManyThreads() throws Exception {
        NDArray x = manager.randomNormal(new Shape(2, 32, 8, 8));
        NDArray expected = Ops.silu(x);
        Thread[] threads = new Thread[4];
        Throwable[] failures = new Throwable[threads.length];
        for (int t = 0; t < threads.length; t++) {
            int index = t;
            threads[t] = new Thread(() -> {
                try (NDManager local = manager.newSubManager()) {
                    for (int i = 0; i < 50; i++) {
                        NDArray y = Ops.silu(x.toDevice(x.getDevice(), true));
                        assertArrayEquals(expected.toFloatArray(), y.toFloatArray());
                    }
                } catch (Throwable e) {
                    failures[index] = e;
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        for (Throwable f : failures) {
            assertEquals(null, f);
        }
        assertTrue(TorchOps.archive().length > 0);
    }

    /** A linear layer's weight (scaled to keep outputs near 1), bias, an input and x W^T + b computed plainly. */
    record LinearCase(NDArray w, NDArray b, NDArray x, NDArray expected) {
        static LinearCase random(long out, long in, Shape input) {
            NDArray w = manager.randomNormal(new Shape(out, in)).mul(0.05f);
            NDArray b = manager.randomNormal(new Shape(out));
            NDArray x = manager.randomNormal(input);
            return new LinearCase(w, b, x, x.matMul(w.transpose()).add(b));
        }
    }

    static void assertClose(NDArray expected, NDArray actual, double tolerance) {
        assertEquals(expected.getShape(), actual.getShape());
        float diff = expected.sub(actual).abs().max().getFloat();
        assertTrue(diff <= tolerance, "max difference " + diff + " > " + tolerance);
    }
}
