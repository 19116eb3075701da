package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;

/** Activations, attention and resampling shared by the text encoder, the UNet and the VAE. */
public final class Ops {
    private Ops() { }

    /**
     * Runs a block's forward pass in its own scope: every intermediate it creates is freed on return,
     * and only the result survives (handed to the enclosing scope).
     */
    public static NDArray scoped(Supplier<NDArray> body) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            out = body.get();
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    /**
     * {@code result}, with {@code spent} closed: for a chain of blocks, each of whose inputs is dead once the next
     * output exists. Without it every block output of a pass stays alive until the batch's scope ends, which at
     * 1024x1024 held 6 GB of VAE activations at once.
     */
    public static NDArray replacing(NDArray spent, NDArray result) {
        return replacing(spent, result, null);
    }

    /** The same, except that {@code spent} stays open when it is {@code callers}: a block's input is its caller's. */
    public static NDArray replacing(NDArray spent, NDArray result, NDArray callers) {
        if (spent != result && spent != callers) {
            spent.close();
        }
        return result;
    }

    public static NDArray silu(NDArray x) {
        return TorchOps.silu(x);
    }

    /** Exact (erf) GELU, as torch.nn.functional.gelu with approximate="none". */
    public static NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }

    /** CLIP's x * sigmoid(1.702 x). */
    public static NDArray quickGelu(NDArray x) {
        return x.mul(x.mul(1.702f).getNDArrayInternal().sigmoid());
    }

    public static NDArray activation(String name, NDArray x) {
        return switch (name) {
            case "quick_gelu" -> quickGelu(x);
            case "gelu" -> gelu(x);
            case "silu", "swish" -> silu(x);
            default -> throw new IllegalArgumentException("unsupported activation " + name);
        };
    }

    /**
     * Multi-head scaled dot-product attention. q [B, Nq, C], k and v [B, Nk, C]; mask, if given, is added
     * to the scores [.., Nq, Nk]. Returns [B, Nq, C]. libtorch's fused kernel ({@link TorchOps#attention}):
     * the scores are never written out whole, so no chunking is needed to bound memory at 4096+ tokens.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, int heads, NDArray mask) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long nq = qs.get(1);
        long c = qs.get(2);
        long nk = k.getShape().get(1);
        long d = c / heads;
        NDArray out = TorchOps.attention(q.reshape(b, nq, heads, d).transpose(0, 2, 1, 3),
                k.reshape(b, nk, heads, d).transpose(0, 2, 1, 3), v.reshape(b, nk, heads, d).transpose(0, 2, 1, 3), mask);
        return out.transpose(0, 2, 1, 3).reshape(b, nq, c);
    }

    /** Nearest-neighbour 2x upsampling of [N, C, H, W], as F.interpolate(scale_factor=2, mode="nearest"). */
    public static NDArray upsampleNearest2x(NDArray x) {
        return TorchOps.upsampleNearest2x(x);
    }

    /** Repeats a batch K times, step-major: [x0, x1, .., x0, x1, ..] as torch's tensor.repeat(K, 1, ...). */
    public static NDArray repeatBatch(NDArray x, int k) {
        if (k == 1) {
            return x;
        }
        long[] reps = new long[x.getShape().dimension()];
        java.util.Arrays.fill(reps, 1);
        reps[0] = k;
        return x.tile(reps);
    }
}
