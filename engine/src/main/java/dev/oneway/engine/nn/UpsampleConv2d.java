package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/**
 * diffusers' Upsample2D: nearest 2x upsampling, then a 3x3 convolution (padding 1), computed on the CPU without the
 * upsampled map. In the upsampled map every 2x2 block repeats one input pixel, so an output pixel's 3x3 window covers
 * only 2x2 input pixels, with taps that depend on the pixel's row and column parity: for even rows the window's
 * rows fall on input rows (i-1, i, i) and for odd rows on (i, i, i+1). Each of the four parities is therefore a 2x2
 * convolution of the input with summed taps, and all four are one 2x2 convolution with four times the output
 * channels, whose phases are then interleaved. 4 taps per output pixel instead of 9 (the UNet's and the VAE's
 * upsamplers were 28% of the VAE's arithmetic), and no 4x-sized input to write and read. Sums of taps round
 * differently, so results move by float rounding (~1e-6 relative in float32; {@code ParityTest} holds).
 *
 * <p>Elsewhere (a GPU, float16 weights, a generated model's placeholders) it is the plain upsample and convolution.
 */
public record UpsampleConv2d(Conv2d phases, Conv2d plain, long channels) {

    public static UpsampleConv2d load(Weights w, int channels) {
        return of(w.get("weight", channels, channels, 3, 3), w.get("bias", channels), channels, w);
    }

    /** A conv saved with bias=False (TAESD's): a zero bias here. */
    public static UpsampleConv2d loadWithoutBias(Weights w, int channels) {
        NDArray weight = w.get("weight", channels, channels, 3, 3);
        return of(weight, weight.getManager().zeros(new Shape(channels), weight.getDataType()), channels, w);
    }

    private static UpsampleConv2d of(NDArray weight, NDArray bias, int channels, Weights w) {
        if (!Conv2d.packable(weight)) {
            return new UpsampleConv2d(null, Conv2d.of(weight, bias, 1, 1, w.batchInvariant(), w.bfloat16()), channels);
        }
        // taps of a 2x2 window at rows (m, m+1) of the input padded by one: phase 0 (even output rows) is kernel rows
        // (0 | 1+2), phase 1 (odd) (0+1 | 2); the same for columns
        NDArray phaseWeight = Ops.scoped(() -> {
            NDList kernels = new NDList();
            for (int a = 0; a < 2; a++) {
                NDArray rows = NDArrays.concat(new NDList(taps(weight, 2, a, 0), taps(weight, 2, a, 1)), 2);
                for (int b = 0; b < 2; b++) {
                    kernels.add(NDArrays.concat(new NDList(taps(rows, 3, b, 0), taps(rows, 3, b, 1)), 3));
                }
            }
            return NDArrays.concat(kernels, 0); // [4 * out, in, 2, 2], phase (a, b) at a * 2 + b
        });
        NDArray phaseBias = NDArrays.concat(new NDList(bias, bias, bias, bias), 0);
        Conv2d phases = Conv2d.of(phaseWeight, phaseBias, 1, 1, w.batchInvariant(), w.bfloat16());
        weight.close();
        return new UpsampleConv2d(phases, null, channels);
    }

    /** Of {@code w} along {@code axis} (2: kernel rows, 3: columns), the sum of the taps that window row r takes in phase p. */
    private static NDArray taps(NDArray w, int axis, int phase, int r) {
        int from = phase == 0 ? (r == 0 ? 0 : 1) : (r == 0 ? 0 : 2);
        int to = phase == 0 ? (r == 0 ? 1 : 3) : (r == 0 ? 2 : 3);
        String index = axis == 2 ? ":, :, {}:{}" : ":, :, :, {}:{}";
        return w.get(new NDIndex(index, from, to)).sum(new int[] {axis}, true);
    }

    /** Each row its own job (the VAE). */
    public NDArray forward(NDArray x) {
        return forward(x, x.getShape().get(0));
    }

    /** x [N, C, H, W] of {@code jobs} jobs ({@link Conv2d#forward(NDArray, long)}) -> [N, C, 2H, 2W]. */
    public NDArray forward(NDArray x, long jobs) {
        if (plain != null) {
            return Ops.scoped(() -> plain.forward(Ops.upsampleNearest2x(x), jobs));
        }
        Shape s = x.getShape();
        long n = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        return Ops.scoped(() -> {
            // [N, 4C, H+1, W+1]: phase (a, b) of output pixel (2i+a, 2j+b) is at window (i+a, j+b)
            NDArray z = phases.forward(x, jobs).reshape(n, 2, 2, channels, h + 1, w + 1);
            NDArray out = x.getManager().create(new Shape(n, channels, h, 2, w, 2), x.getDataType());
            for (int a = 0; a < 2; a++) {
                for (int b = 0; b < 2; b++) {
                    out.set(new NDIndex(":, :, :, {}, :, {}", a, b),
                            z.get(new NDIndex(":, {}, {}, :, {}:{}, {}:{}", a, b, a, a + h, b, b + w)));
                }
            }
            return out.reshape(n, channels, 2 * h, 2 * w);
        });
    }
}
