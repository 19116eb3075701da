package dev.oneway.engine;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Where and in what precision the engine runs. "auto" picks the GPU with float16 when DJL's
 * PyTorch engine has one, else the CPU with float32 (half precision on a CPU is ~100x slower).
 * "bfloat16" is a CPU setting: weights and activations stay float32, convolutions and linear layers compute
 * in bfloat16 on oneDNN (SD1.5 at 256x256: 1.75x faster on a CPU with AVX512_BF16; pixels 0.5 of 255 from
 * float32's on average, at most 5, PSNR 51 dB; docs/benchmarks.md, issue 15).
 *
 * @param batchInvariant null for the device's default, see {@link #batchInvariantOn}
 * @param taesdDir a TAESD (diffusers AutoencoderTiny) folder to use where the model folder has no vae_tiny/;
 *     null for none
 */
public record EngineOptions(String device, String dtype, Boolean batchInvariant, Path taesdDir) {

    public static EngineOptions defaults() {
        return new EngineOptions("auto", "auto", null, null);
    }

    public EngineOptions(String device, String dtype, Boolean batchInvariant) {
        this(device, dtype, batchInvariant, null);
    }

    public EngineOptions(String device, String dtype) {
        this(device, dtype, null);
    }

    /**
     * Whether a job's image must not depend on its batch mates, bit for bit. Default (null): yes on
     * the CPU, where it costs little; no on a GPU, where per-image convolutions would waste the batch.
     */
    public boolean batchInvariantOn(boolean gpu) {
        return batchInvariant != null ? batchInvariant : !gpu;
    }

    public EngineOptions {
        device = device == null ? "auto" : device.toLowerCase(Locale.ROOT);
        dtype = dtype == null ? "auto" : dtype.toLowerCase(Locale.ROOT);
        if (!device.equals("auto") && !device.equals("cpu") && !device.equals("gpu")) {
            throw new IllegalArgumentException("device must be auto, cpu or gpu, got '" + device + "'");
        }
        if (!dtype.equals("auto") && !dtype.equals("float32") && !dtype.equals("float16") && !dtype.equals("bfloat16")) {
            throw new IllegalArgumentException("dtype must be auto, float32, float16 or bfloat16, got '" + dtype + "'");
        }
        if (dtype.equals("bfloat16") && device.equals("gpu")) {
            throw new IllegalArgumentException("dtype bfloat16 is a CPU setting (on a GPU use float16)");
        }
    }
}
