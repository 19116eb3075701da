package dev.oneway.engine.nn;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/**
 * torch.nn.Linear: y = x W^T + b over the last axis; bias may be absent (attention projections).
 *
 * <p>On the CPU the weight is reordered once, here, for oneDNN's matmul ({@code packed}: {@code weight} is then an
 * opaque tensor for {@link TorchOps#linear} alone, and the plain copy is released). libtorch's own linear calls
 * MKL's sgemm, which on the AMD CPU the benchmarks ran on reached 150-180 GFLOP/s where oneDNN reached 340-400
 * for the UNet's shapes. The two sum in different orders: results move by about 1e-6 relative to the plain
 * ones. Each layer is checked against the plain one on a probe input when it is packed and keeps the plain one
 * if they differ ({@link TorchOps#agree}): libtorch 2.7.1's packed matmul is wrong on this CPU for 40 to 160
 * outputs that are not a multiple of 64. Small layers are packed too: with the heap allocator of
 * {@code TorchRuntime.MALLOC_TUNABLES}, libtorch's plain ops on small layers gave a job a different image
 * in a batch than alone ({@code TiueEngineTest}).
 */
public record Linear(NDArray weight, NDArray bias, boolean packed, boolean bfloat16) {

    /**
     * The layer, its weight packed when it lives on the CPU; elsewhere (and for float16 weights) libtorch's linear
     * is used, as it is for the one-element placeholders a generated model is sized with ({@code tiny.RandomSource}).
     */
    public static Linear of(NDArray weight, NDArray bias) {
        return of(weight, bias, false);
    }

    /** @param bfloat16 pack the weight in bfloat16 and compute in it (CPU only; see {@code EngineOptions}) */
    public static Linear of(NDArray weight, NDArray bias, boolean bfloat16) {
        Linear plain = new Linear(weight, bias, false, false);
        if (weight.getDevice().isGpu() || weight.getShape().dimension() != 2 || weight.getDataType() != DataType.FLOAT32) {
            return plain;
        }
        Linear packed;
        try {
            packed = new Linear(TorchOps.packLinearWeight(weight, bfloat16), bias, true, bfloat16);
        } catch (EngineException e) {
            return plain; // oneDNN has no packed layout for this shape on this CPU
        }
        Shape probe = new Shape(3, weight.getShape().get(1));
        if (!TorchOps.agree(plain::forward, packed::forward, weight.getManager(), probe, bfloat16)) {
            packed.weight.close();
            return plain;
        }
        weight.close();
        return packed;
    }

    public static Linear load(Weights w, int in, int out) {
        return of(w.get("weight", out, in), w.get("bias", out), w.bfloat16());
    }

    public static Linear loadNoBias(Weights w, int in, int out) {
        return of(w.get("weight", out, in), null, w.bfloat16());
    }

    public NDArray forward(NDArray x) {
        if (packed) {
            return TorchOps.linear(x, weight, bias, bfloat16);
        }
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }
}
