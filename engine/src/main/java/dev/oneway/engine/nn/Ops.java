package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;

/** Activations, attention and resampling shared by the text encoder, the UNet and the VAE. */
public final class Ops {
    private Ops() { }

    /** Above this many attention-score bytes per chunk, queries are processed in slices to bound memory. */
    private static final long ATTENTION_CHUNK_BYTES = 128L * 1024 * 1024;

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

    public static NDArray silu(NDArray x) {
        // sigmoid(x) is a fresh temporary, so it takes the product in place (x may be a weight or a kept residual)
        return x.getNDArrayInternal().sigmoid().muli(x);
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
     * to the scores [.., Nq, Nk]. Returns [B, Nq, C].
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, int heads, NDArray mask) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long nq = qs.get(1);
        long c = qs.get(2);
        long nk = k.getShape().get(1);
        long d = c / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        NDArray qh = q.reshape(b, nq, heads, d).transpose(0, 2, 1, 3).mul(scale);
        NDArray kt = k.reshape(b, nk, heads, d).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(b, nk, heads, d).transpose(0, 2, 1, 3);
        long bytesPerRow = b * heads * nk * q.getDataType().getNumOfBytes();
        long rowsPerChunk = Math.max(1, ATTENTION_CHUNK_BYTES / bytesPerRow);
        NDArray out;
        if (rowsPerChunk >= nq) {
            out = attend(qh, kt, vh, mask);
        } else {
            NDList parts = new NDList();
            for (long start = 0; start < nq; start += rowsPerChunk) {
                long end = Math.min(nq, start + rowsPerChunk);
                NDArray qChunk = qh.get(new NDIndex(":, :, {}:{}", start, end));
                NDArray maskChunk = mask == null ? null : mask.get(new NDIndex("..., {}:{}, :", start, end));
                parts.add(scoped(() -> attend(qChunk, kt, vh, maskChunk)));
            }
            out = ai.djl.ndarray.NDArrays.concat(parts, 2);
        }
        return out.transpose(0, 2, 1, 3).reshape(b, nq, c);
    }

    private static NDArray attend(NDArray q, NDArray kt, NDArray v, NDArray mask) {
        NDArray scores = q.matMul(kt);
        if (mask != null) {
            scores = scores.addi(mask);
        }
        return scores.softmax(-1).matMul(v);
    }

    /** Nearest-neighbour 2x upsampling of [N, C, H, W], as F.interpolate(scale_factor=2, mode="nearest"). */
    public static NDArray upsampleNearest2x(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        return x.reshape(n, c, h, 1, w, 1).broadcast(n, c, h, 2, w, 2).reshape(n, c, h * 2, w * 2);
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
