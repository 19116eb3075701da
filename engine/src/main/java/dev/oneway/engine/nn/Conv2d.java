package dev.oneway.engine.nn;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/**
 * torch.nn.Conv2d with square kernels, "same" padding for odd kernels unless a stride says otherwise.
 *
 * <p>Convolution is the one op whose CPU kernels (oneDNN) sum in a batch-size-dependent order, so an
 * image's values would move by ~1e-6 with its batch mates and its PNG bytes could change. With
 * {@code perImage} set, each image of the batch is convolved on its own: every other op (linear,
 * attention, norms) still runs over the whole batch, and a job's image no longer depends on its batch.
 *
 * <p>On the CPU the weight is reordered once, here, into oneDNN's blocked layout ({@code packed}: {@code weight}
 * is then an opaque tensor for {@link TorchOps#convolution} alone, and the plain copy is released). libtorch's
 * plain convolution reorders the weight on every call, which for the UNet's deep layers (1280 channels at
 * 8x8, a 59 MB weight) cost two thirds of the call. The packed convolution runs the same kernel on the same
 * values; each layer is checked against the plain one on a probe input when it is packed, and keeps the plain
 * one if they differ ({@link TorchOps#agree}). Small layers are packed too: with the heap allocator of
 * {@code TorchRuntime.MALLOC_TUNABLES}, libtorch's plain convolution of small layers gave a job a different
 * image in a batch than alone ({@code TiueEngineTest}).
 */
public record Conv2d(NDArray weight, NDArray bias, int stride, int padding, boolean perImage, boolean packed,
                     boolean bfloat16) {

    /**
     * The layer, its weight packed when it lives on the CPU; elsewhere (and for float16 weights) libtorch's plain
     * convolution is used, as it is for the one-element placeholders a generated model is sized with
     * ({@code tiny.RandomSource}).
     */
    public static Conv2d of(NDArray weight, NDArray bias, int stride, int padding, boolean perImage) {
        return of(weight, bias, stride, padding, perImage, false);
    }

    /** @param bfloat16 pack the weight in bfloat16 and compute in it (CPU only; see {@code EngineOptions}) */
    public static Conv2d of(NDArray weight, NDArray bias, int stride, int padding, boolean perImage, boolean bfloat16) {
        Conv2d plain = new Conv2d(weight, bias, stride, padding, perImage, false, false);
        if (weight.getDevice().isGpu() || weight.getShape().dimension() != 4 || weight.getDataType() != DataType.FLOAT32) {
            return plain;
        }
        Conv2d packed;
        try {
            packed = new Conv2d(TorchOps.packConvWeight(weight, stride, padding, bfloat16), bias, stride, padding, perImage,
                    true, bfloat16);
        } catch (EngineException e) {
            return plain; // oneDNN has no blocked layout for this shape on this CPU
        }
        long in = weight.getShape().get(1);
        if (!TorchOps.agree(plain::forward, packed::forward, weight.getManager(), new Shape(1, in, 5, 5), bfloat16)) {
            packed.weight.close();
            return plain;
        }
        weight.close();
        return packed;
    }

    public static Conv2d load(Weights w, int in, int out, int kernel) {
        return load(w, in, out, kernel, 1, kernel / 2);
    }

    public static Conv2d load(Weights w, int in, int out, int kernel, int stride, int padding) {
        return of(w.get("weight", out, in, kernel, kernel), w.get("bias", out), stride, padding, w.batchInvariant(),
                w.bfloat16());
    }

    /** A conv saved with bias=False: no bias tensor in the checkpoint, a zero bias here. */
    public static Conv2d loadWithoutBias(Weights w, int in, int out, int kernel) {
        NDArray weight = w.get("weight", out, in, kernel, kernel);
        NDArray bias = weight.getManager().zeros(new Shape(out), weight.getDataType());
        return of(weight, bias, 1, kernel / 2, w.batchInvariant(), w.bfloat16());
    }

    public NDArray forward(NDArray x) {
        long batch = x.getShape().get(0);
        if (!perImage || batch == 1) {
            return convolve(x);
        }
        NDList images = new NDList();
        for (long i = 0; i < batch; i++) {
            images.add(convolve(x.get(new NDIndex("{}:{}", i, i + 1))));
        }
        return NDArrays.concat(images, 0);
    }

    private NDArray convolve(NDArray x) {
        if (packed) {
            return TorchOps.convolution(x, weight, bias, stride, padding, bfloat16);
        }
        return x.getNDArrayInternal()
                .convolution(x, weight, bias, new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

}
