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
 * {@code perImage} set, each job of the batch is convolved on its own (a TiUE decoder pass: the job's K rows in one
 * call, {@link #forward(NDArray, long)}): every other op (linear, attention, norms) still runs over the whole batch,
 * and a job's image no longer depends on its batch.
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
        if (!packable(weight)) {
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

    /** Whether {@link #of} packs this weight for oneDNN: a float32 convolution weight on the CPU. */
    static boolean packable(NDArray weight) {
        return !weight.getDevice().isGpu() && weight.getShape().dimension() == 4 && weight.getDataType() == DataType.FLOAT32;
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

    /** Each row its own job (the encoder, the VAE). */
    public NDArray forward(NDArray x) {
        return forward(x, x.getShape().get(0));
    }

    /**
     * @param jobs how many jobs {@code x}'s rows belong to, step-major: row {@code k * jobs + i} is job i's k-th, as in
     *     the TiUE decoder's K x B rows ({@code TimeCondition#jobs}). With {@code perImage} each job's rows are convolved
     *     in one call of the same shape whatever its batch: a lone job's K rows in one call, not K.
     */
    public NDArray forward(NDArray x, long jobs) {
        Shape s = x.getShape();
        long rows = s.get(0);
        if (!perImage || jobs == 1) {
            return convolve(x);
        }
        if (jobs <= 0 || rows % jobs != 0) {
            throw new IllegalArgumentException(rows + " rows are not " + jobs + " jobs' rows");
        }
        long each = rows / jobs;
        if (each == 1) {
            NDList images = new NDList();
            for (long i = 0; i < rows; i++) {
                images.add(convolve(x.get(new NDIndex("{}:{}", i, i + 1))));
            }
            return NDArrays.concat(images, 0);
        }
        return Ops.scoped(() -> {
            // job-major, so that each job's rows are one contiguous slice; then back to step-major
            NDArray byJob = x.reshape(each, jobs, s.get(1), s.get(2), s.get(3)).transpose(1, 0, 2, 3, 4)
                    .reshape(rows, s.get(1), s.get(2), s.get(3));
            NDList outputs = new NDList();
            for (long i = 0; i < jobs; i++) {
                outputs.add(convolve(byJob.get(new NDIndex("{}:{}", i * each, (i + 1) * each))));
            }
            NDArray out = NDArrays.concat(outputs, 0);
            Shape o = out.getShape();
            return out.reshape(jobs, each, o.get(1), o.get(2), o.get(3)).transpose(1, 0, 2, 3, 4)
                    .reshape(rows, o.get(1), o.get(2), o.get(3));
        });
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
