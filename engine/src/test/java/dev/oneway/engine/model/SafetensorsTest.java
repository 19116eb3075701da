package dev.oneway.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.TorchRuntime;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    /** Values exactly representable in F16 and BF16, so every dtype must give them back unchanged. */
    static final float[] VALUES = {0f, 1f, -2f, 0.5f, 1.5f, -0.25f, 3f, 96f, -0.125f, 8f, 0.75f, -1f};

    /** An independent writer: the bit patterns are spelled out here, not taken from the engine. */
    static byte[] file(String dtype, short[] halfBits, float[] floats, long[] shape) {
        int bytes = halfBits != null ? halfBits.length * 2 : floats.length * 4;
        String header = "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape)
                + ",\"data_offsets\":[0," + bytes + "]}}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        ByteBuffer data = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (halfBits != null) {
            for (short s : halfBits) {
                data.putShort(s);
            }
        } else {
            for (float f : floats) {
                data.putFloat(f);
            }
        }
        out.writeBytes(data.array());
        return out.toByteArray();
    }

    static short[] f16Bits() {
        // sign | exponent (bias 15) | 10-bit mantissa, written out by hand
        return new short[] {0x0000, 0x3c00, (short) 0xc000, 0x3800, 0x3e00, (short) 0xb400, 0x4200, 0x5600,
            (short) 0xb000, 0x4800, 0x3a00, (short) 0xbc00};
    }

    static short[] bf16Bits() {
        short[] out = new short[VALUES.length];
        for (int i = 0; i < VALUES.length; i++) {
            out[i] = (short) (Float.floatToIntBits(VALUES[i]) >>> 16);
        }
        return out;
    }

    @Test
    void readsF32F16AndBf16AsTheSameFloats() throws Exception {
        long[] shape = {3, 4};
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("F32", file("F32", null, VALUES, shape));
        files.put("F16", file("F16", f16Bits(), null, shape));
        files.put("BF16", file("BF16", bf16Bits(), null, shape));
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                Path p = dir.resolve(e.getKey() + ".safetensors");
                Files.write(p, e.getValue());
                try (Safetensors st = Safetensors.open(p)) {
                    assertArrayEquals(VALUES, st.readFloats("w"), e.getKey());
                    NDArray loaded = st.load("w", manager, DataType.FLOAT32);
                    assertEquals(DataType.FLOAT32, loaded.getDataType());
                    assertArrayEquals(shape, loaded.getShape().getShape());
                    assertArrayEquals(VALUES, loaded.toFloatArray(), e.getKey());
                }
            }
        }
    }

    @Test
    void engineWriterRoundTripsEveryDtype() throws Exception {
        for (TensorType type : TensorType.values()) {
            Path p = dir.resolve("written-" + type + ".safetensors");
            SafetensorsWriter.write(p, Map.of("a.b", new SafetensorsWriter.Tensor(VALUES, new long[] {2, 6})), type);
            try (Safetensors st = Safetensors.open(p)) {
                assertEquals(type, st.tensors().get("a.b").type());
                assertArrayEquals(VALUES, st.readFloats("a.b"), type.name());
            }
        }
        // the engine's writer and the hand-written bit patterns agree
        Path p = dir.resolve("f16.safetensors");
        SafetensorsWriter.write(p, Map.of("w", new SafetensorsWriter.Tensor(VALUES, new long[] {3, 4})), TensorType.F16);
        byte[] written = Files.readAllBytes(p);
        ByteBuffer tail = ByteBuffer.wrap(written, written.length - 24, 24).order(ByteOrder.LITTLE_ENDIAN);
        for (short expected : f16Bits()) {
            assertEquals(expected, tail.getShort());
        }
    }

    @Test
    void halfConversionsRoundToNearestEven() {
        assertEquals(1f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1f + 0x1p-11f))); // tie -> even (down)
        assertEquals(1f + 0x1p-9f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1f + 0x1p-10f + 0x1p-11f))); // tie -> even (up)
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat(HalfFloats.floatToF16(70000f)));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-24f))); // smallest subnormal
        assertEquals(1f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f + 0x1p-8f)));
    }

    @Test
    void corruptHeaderIsReportedWithTheFileName() throws Exception {
        Path p = dir.resolve("corrupt.safetensors");
        byte[] junk = "{not json at all".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + junk.length).order(ByteOrder.LITTLE_ENDIAN).putLong(junk.length).put(junk);
        Files.write(p, b.array());
        ModelException e = assertThrows(ModelException.class, () -> Safetensors.open(p));
        assertTrue(e.getMessage().contains("corrupt.safetensors") && e.getMessage().contains("corrupt header"), e.getMessage());

        Path huge = dir.resolve("huge-length.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        e = assertThrows(ModelException.class, () -> Safetensors.open(huge));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void truncatedFileNamesTheTensorThatDoesNotFit() throws Exception {
        byte[] whole = file("F32", null, VALUES, new long[] {3, 4});
        Path p = dir.resolve("truncated.safetensors");
        Files.write(p, Arrays.copyOf(whole, whole.length - 5));
        ModelException e = assertThrows(ModelException.class, () -> Safetensors.open(p));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void unsupportedDtypeIsNamed() throws Exception {
        Path p = dir.resolve("int.safetensors");
        byte[] bytes = file("F32", null, VALUES, new long[] {3, 4});
        String text = new String(bytes, StandardCharsets.ISO_8859_1).replace("\"F32\"", "\"I32\"");
        Files.write(p, text.getBytes(StandardCharsets.ISO_8859_1));
        ModelException e = assertThrows(ModelException.class, () -> Safetensors.open(p));
        assertTrue(e.getMessage().contains("I32") && e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void wrongShapeAndMissingTensorNameKeyExpectationAndConfig() throws Exception {
        Path p = dir.resolve("model.safetensors");
        Files.write(p, file("F32", null, VALUES, new long[] {3, 4}));
        try (NDManager manager = TorchRuntime.engine().newBaseManager();
             SafetensorsSource source = new SafetensorsSource(Safetensors.open(p), manager, DataType.FLOAT32, "unet/config.json")) {
            Weights w = new Weights(source);
            ModelException e = assertThrows(ModelException.class, () -> w.get("w", 4, 3));
            assertTrue(e.getMessage().contains("'w' has shape [3, 4], expected [4, 3] from unet/config.json"), e.getMessage());
            e = assertThrows(ModelException.class, () -> w.at("conv_in").get("weight", 8, 4, 3, 3));
            assertTrue(e.getMessage().contains("missing tensor 'conv_in.weight'") && e.getMessage().contains("[8, 4, 3, 3]"),
                    e.getMessage());
            assertEquals(12, w.get("w", 3, 4).size());
        }
    }
}
