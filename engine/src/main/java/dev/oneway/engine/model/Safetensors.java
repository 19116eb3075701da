package dev.oneway.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.oneway.engine.ModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file, read without Python and without pulling it onto the heap: the header is parsed
 * up front and validated against the file size; each tensor is memory-mapped on demand.
 */
public final class Safetensors implements AutoCloseable {

    /** One header entry: where a tensor's bytes are and what they hold. */
    public record TensorInfo(String name, TensorType type, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;

    private Safetensors(Path file, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
    }

    public static Safetensors open(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelException(file + ": file not found");
        } catch (IOException e) {
            throw new ModelException(file + ": cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new ModelException(file + ": not a safetensors file (" + size + " bytes, expected an 8-byte header length)");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new ModelException(file + ": corrupt header: header length " + headerLength
                        + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            Map<String, TensorInfo> tensors = parseHeader(file, new String(header.array(), StandardCharsets.UTF_8),
                    size - 8 - headerLength);
            return new Safetensors(file, channel, 8 + headerLength, tensors);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ModelException(file + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path file, String text, long dataBytes) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new ModelException(file + ": corrupt header: not valid JSON (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new ModelException(file + ": corrupt header: expected a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode info = entry.getValue();
            JsonNode offsets = info.get("data_offsets");
            JsonNode shapeNode = info.get("shape");
            if (!info.hasNonNull("dtype") || offsets == null || offsets.size() != 2 || shapeNode == null || !shapeNode.isArray()) {
                throw new ModelException(file + ": corrupt header: tensor '" + name + "' needs dtype, shape and data_offsets");
            }
            String dtype = info.get("dtype").asText();
            TensorType type = TensorType.fromHeader(dtype);
            if (type == null) {
                throw new ModelException(file + ": tensor '" + name + "' has dtype " + dtype + "; the engine reads F32, F16 and BF16");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong();
            }
            TensorInfo tensor = new TensorInfo(name, type, shape, offsets.get(0).asLong(), offsets.get(1).asLong());
            long expectedBytes = tensor.elementCount() * type.bytes();
            if (tensor.end() - tensor.begin() != expectedBytes || tensor.begin() < 0) {
                throw new ModelException(file + ": corrupt header: tensor '" + name + "' spans bytes " + tensor.begin()
                        + ".." + tensor.end() + " but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
            }
            if (tensor.end() > dataBytes) {
                throw new ModelException(file + ": truncated: tensor '" + name + "' needs data up to byte " + tensor.end()
                        + " but the file holds " + dataBytes + " bytes of data");
            }
            tensors.put(name, tensor);
        }
        return Collections.unmodifiableMap(tensors);
    }

    public Path file() {
        return file;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * Maps one tensor and hands it to DJL as {@code target} (FLOAT32 or FLOAT16). F32 and F16 data is
     * shared with a read-only mapping (so model folders may be read-only; nothing writes weights in place); BF16 is
     * widened in Java because DJL cannot hold it.
     */
    public NDArray load(String name, NDManager manager, DataType target) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelException(file + ": missing tensor '" + name + "'");
        }
        Shape shape = new Shape(info.shape());
        ByteBuffer bytes = map(info);
        switch (info.type()) {
            case F32:
                return convert(manager.create(bytes, shape, DataType.FLOAT32), target);
            case F16:
                return convert(manager.create(bytes, shape, DataType.FLOAT16), target);
            case BF16: {
                FloatBuffer widened = ByteBuffer.allocateDirect((int) info.elementCount() * 4)
                        .order(ByteOrder.nativeOrder()).asFloatBuffer();
                for (int i = 0; i < info.elementCount(); i++) {
                    widened.put(HalfFloats.bf16ToFloat(bytes.getShort(i * 2)));
                }
                return convert(manager.create(widened.flip(), shape, DataType.FLOAT32), target);
            }
            default:
                throw new IllegalStateException(info.type().name());
        }
    }

    /** Reads a tensor's values widened to float (for tests and tools; the engine uses {@link #load}). */
    public float[] readFloats(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelException(file + ": missing tensor '" + name + "'");
        }
        ByteBuffer bytes = map(info);
        float[] out = new float[(int) info.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (info.type()) {
                case F32 -> bytes.getFloat(i * 4);
                case F16 -> HalfFloats.f16ToFloat(bytes.getShort(i * 2));
                case BF16 -> HalfFloats.bf16ToFloat(bytes.getShort(i * 2));
            };
        }
        return out;
    }

    private static NDArray convert(NDArray array, DataType target) {
        if (array.getDataType() == target) {
            return array;
        }
        NDArray converted = array.toType(target, true);
        array.close();
        return converted;
    }

    private ByteBuffer map(TensorInfo info) {
        try {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), info.end() - info.begin());
            return mapped.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelException(file + ": cannot map tensor '" + info.name() + "': " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing; the original error is the one worth reporting
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
