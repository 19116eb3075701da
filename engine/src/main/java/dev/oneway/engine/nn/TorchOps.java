package dev.oneway.engine.nn;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch's fused group norm, SiLU, GEGLU and scaled-dot-product attention, and oneDNN's convolution and
 * matmul with weights reordered once, none of which DJL 0.36's JNI exposes. They are methods of a TorchScript
 * module whose source is {@code torch_ops.py} beside this class; the module is packed here into the archive
 * layout torch.jit.save writes and loaded once per process with libtorch's loader. The module holds no tensors,
 * so it runs on whatever device its inputs are on, and its methods are safe to call from several threads at once.
 *
 * <p>Each call costs about 10-15 us of interpretation and JNI; in exchange one kernel replaces a chain of DJL
 * ops (group norm + SiLU: 6 passes over memory become 2; attention no longer writes the [N, N] scores).
 */
public final class TorchOps {
    private TorchOps() { }

    private static final Object LOCK = new Object();
    private static volatile PtSymbolBlock module;

    public static NDArray groupNorm(NDArray x, int groups, NDArray weight, NDArray bias, float eps, boolean silu) {
        return call(silu ? "group_norm_silu" : "group_norm", x,
                IValue.from(x(x)), IValue.from((long) groups), IValue.from(x(weight)), IValue.from(x(bias)),
                IValue.from((double) eps));
    }

    public static NDArray silu(NDArray x) {
        return call("silu", x, IValue.from(x(x)));
    }

    /** value * gelu(gate) for a projection [.., 2 x inner] = [value | gate]. */
    public static NDArray geglu(NDArray projected) {
        return call("geglu", projected, IValue.from(x(projected)));
    }

    /** softmax(q k^T / sqrt(d) + mask) v on [B, heads, N, d]; mask may be null. */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask) {
        if (mask == null) {
            return call("attention", q, IValue.from(x(q)), IValue.from(x(k)), IValue.from(x(v)));
        }
        return call("attention_masked", q, IValue.from(x(q)), IValue.from(x(k)), IValue.from(x(v)), IValue.from(x(mask)));
    }

    /**
     * A convolution weight [out, in, k, k] reordered into oneDNN's blocked layout for
     * {@link #convolution}; an opaque tensor owned by the weight's manager, for nothing but that call.
     */
    public static NDArray packConvWeight(NDArray weight, int stride, int padding, boolean bfloat16) {
        NDArray packed = call(bfloat16 ? "pack_conv_weight_bf16" : "pack_conv_weight", weight, IValue.from(x(weight)),
                IValue.from((long) stride), IValue.from((long) padding));
        // packed while a model loads, perhaps inside a caller's scope, but it lives as long as the weight
        NDScope.unregister(packed);
        return packed;
    }

    /**
     * conv2d(x, weight, bias) with a weight from {@link #packConvWeight} and the same stride, padding and
     * precision; float32 in and out either way.
     */
    public static NDArray convolution(NDArray x, NDArray packed, NDArray bias, int stride, int padding, boolean bfloat16) {
        return call(bfloat16 ? "convolution_packed_bf16" : "convolution_packed", x, IValue.from(x(x)),
                IValue.from(x(packed)), IValue.from(x(bias)), IValue.from((long) stride), IValue.from((long) padding));
    }

    /**
     * A linear layer's weight [out, in] reordered for oneDNN's matmul, for {@link #linear}; an opaque tensor
     * owned by the weight's manager.
     */
    public static NDArray packLinearWeight(NDArray weight, boolean bfloat16) {
        NDArray packed = call(bfloat16 ? "pack_linear_weight_bf16" : "pack_linear_weight", weight,
                IValue.from(x(weight)));
        NDScope.unregister(packed);
        return packed;
    }

    /**
     * x W^T + b over x's last axis, with W from {@link #packLinearWeight} in the same precision; bias may be
     * null; float32 in and out either way.
     */
    public static NDArray linear(NDArray x, NDArray packed, NDArray bias, boolean bfloat16) {
        String method = bfloat16 ? "linear_packed_bf16" : "linear_packed";
        if (bias == null) {
            return call(method + "_no_bias", x, IValue.from(x(x)), IValue.from(x(packed)));
        }
        return call(method, x, IValue.from(x(x)), IValue.from(x(packed)), IValue.from(x(bias)));
    }

    /**
     * Whether a packed layer computes what its plain (float32) version does: both on one deterministic probe
     * input, equal within a share of the output's largest magnitude: 1e-4 for a float32 layer (different kernels
     * sum in different orders), 3e-2 for a bfloat16 one (8 bits of mantissa); a wrong kernel is off by the
     * magnitude itself. A packed op that fails on the probe does not agree either.
     */
    static boolean agree(UnaryOperator<NDArray> plain, UnaryOperator<NDArray> packed, NDManager manager, Shape probe,
                         boolean bfloat16) {
        return agree(plain, packed, manager, probe, bfloat16 ? 3e-2f : 1e-4f);
    }

    static boolean agree(UnaryOperator<NDArray> plain, UnaryOperator<NDArray> packed, NDManager manager, Shape probe,
                         float tolerance) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray x = scratch.arange((int) probe.size()).toType(DataType.FLOAT32, false).mul(0.37f).sin().reshape(probe);
            NDArray expected = plain.apply(x);
            NDArray actual;
            try {
                actual = packed.apply(x);
            } catch (EngineException e) {
                return false;
            }
            if (!expected.getShape().equals(actual.getShape())) {
                return false;
            }
            float scale = expected.abs().max().getFloat();
            float diff = expected.sub(actual).abs().max().getFloat();
            return diff <= tolerance * Math.max(scale, 1f);
        }
    }

    /** Nearest-neighbour 2x upsampling of [N, C, H, W]. */
    public static NDArray upsampleNearest2x(NDArray x) {
        return call("upsample_nearest_2x", x, IValue.from(x(x)));
    }

    /** Runs one method; the result belongs to the first operand's manager, as DJL's own ops do. */
    private static NDArray call(String method, NDArray first, IValue... inputs) {
        IValue out = null;
        try {
            out = run(module(), method, inputs);
            return out.toTensor((PtNDManager) first.getManager());
        } finally {
            for (IValue in : inputs) {
                in.close();
            }
            if (out != null) {
                out.close();
            }
        }
    }

    /**
     * DJL's public runMethod wraps the call in c10::InferenceMode, which makes every result an inference
     * tensor that no DJL op may later update in place (the engine adds residuals in place). So the method
     * runs through the JNI's own entry with isTrain set, which only leaves that guard out: no tensor here
     * requires a gradient, so autograd records nothing either way. The graph executor's optimizer (a
     * per-thread libtorch setting) is switched off on each calling thread: a one-op method has nothing to
     * fuse, and profiling it would only re-specialize it for every shape the engine meets.
     */
    private static IValue run(PtSymbolBlock block, String method, IValue[] inputs) {
        if (!UNOPTIMIZED.get()) {
            JniUtils.setGraphExecutorOptimize(false);
            UNOPTIMIZED.set(true);
        }
        long[] handles = new long[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            handles[i] = inputs[i].getHandle();
        }
        try {
            long result = (long) Native.RUN_METHOD.invokeExact(Native.LIB, (long) block.getHandle(), method, handles,
                    true, false);
            return (IValue) Native.NEW_IVALUE.invokeExact(result);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static final ThreadLocal<Boolean> UNOPTIMIZED = ThreadLocal.withInitial(() -> false);

    /** DJL 0.36's package-private JNI entry {@code moduleRunMethod} and IValue constructor, looked up once. */
    private static final class Native {
        static final Object LIB;
        static final MethodHandle RUN_METHOD;
        static final MethodHandle NEW_IVALUE;

        static {
            try {
                Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
                Field lib = library.getDeclaredField("LIB");
                lib.setAccessible(true);
                LIB = lib.get(null);
                Method run = library.getDeclaredMethod("moduleRunMethod", long.class, String.class, long[].class,
                        boolean.class, boolean.class);
                run.setAccessible(true);
                RUN_METHOD = MethodHandles.lookup().unreflect(run)
                        .asType(MethodType.methodType(long.class, Object.class, long.class, String.class, long[].class,
                                boolean.class, boolean.class));
                Constructor<IValue> ivalue = IValue.class.getDeclaredConstructor(long.class);
                ivalue.setAccessible(true);
                NEW_IVALUE = MethodHandles.lookup().unreflectConstructor(ivalue);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    private static PtNDArray x(NDArray array) {
        return (PtNDArray) array;
    }

    private static PtSymbolBlock module() {
        PtSymbolBlock loaded = module;
        if (loaded == null) {
            synchronized (LOCK) {
                loaded = module;
                if (loaded == null) {
                    loaded = load();
                    module = loaded;
                }
            }
        }
        return loaded;
    }

    private static PtSymbolBlock load() {
        // lives as long as the process: a base manager of its own, not any engine's
        PtNDManager manager = (PtNDManager) NDManager.newBaseManager(Device.cpu(), "PyTorch");
        try (InputStream archive = new ByteArrayInputStream(archive())) {
            return JniUtils.loadModule(manager, archive, false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The module archive: its code, the pickled module object (an instance of {@code __torch__.Ops} with
     * {@code training = False}; pickle protocol 2), no constants, format version 3.
     */
    static byte[] archive() throws IOException {
        byte[] code;
        try (InputStream in = TorchOps.class.getResourceAsStream("torch_ops.py")) {
            if (in == null) {
                throw new IOException("torch_ops.py is missing from the engine's classpath");
            }
            code = in.readAllBytes();
        }
        byte[] object = pickle("\u0080\u0002", "c__torch__\nOps\n", ")\u0081", "}(",
                "X\u0008\u0000\u0000\u0000training\u0089", "ub.");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            entry(zip, "torch_ops/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            entry(zip, "torch_ops/constants.pkl", pickle("\u0080\u0002", ").")); // an empty tuple
            entry(zip, "torch_ops/data.pkl", object);
            entry(zip, "torch_ops/code/__torch__.py", code);
        }
        return bytes.toByteArray();
    }

    /** Pickle opcodes and their operands, one byte per char. */
    private static byte[] pickle(String... parts) {
        return String.join("", parts).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void entry(ZipOutputStream zip, String name, byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }
}
