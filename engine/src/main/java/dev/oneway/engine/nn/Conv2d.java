package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/** torch.nn.Conv2d with square kernels, "same" padding for odd kernels unless a stride says otherwise. */
public record Conv2d(NDArray weight, NDArray bias, int stride, int padding) {

    public static Conv2d load(Weights w, int in, int out, int kernel) {
        return load(w, in, out, kernel, 1, kernel / 2);
    }

    public static Conv2d load(Weights w, int in, int out, int kernel, int stride, int padding) {
        return new Conv2d(w.get("weight", out, in, kernel, kernel), w.get("bias", out), stride, padding);
    }

    public NDArray forward(NDArray x) {
        return x.getNDArrayInternal()
                .convolution(x, weight, bias, new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    /** Multiply-accumulates per output pixel per image, for FLOP counts. */
    public long macsPerPixel() {
        Shape s = weight.getShape();
        return s.get(0) * s.get(1) * s.get(2) * s.get(3);
    }

}
