package dev.oneway.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.oneway.engine.ModelException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/** Serves weights from one safetensors file, converted to the engine's dtype and moved to its device. */
public final class SafetensorsSource implements Weights.Source, AutoCloseable {

    private final Safetensors file;
    private final NDManager manager;
    private final DataType dtype;
    private final String configName;
    private final Set<String> used = new HashSet<>();

    /**
     * @param configName the config file the expected shapes come from, named in wrong-shape errors
     */
    public SafetensorsSource(Safetensors file, NDManager manager, DataType dtype, String configName) {
        this.file = file;
        this.manager = manager;
        this.dtype = dtype;
        this.configName = configName;
    }

    @Override
    public NDArray tensor(String key, long[] expectedShape) {
        Safetensors.TensorInfo info = file.tensors().get(key);
        if (info == null) {
            throw new ModelException(file.file() + ": missing tensor '" + key + "' (expected shape "
                    + Arrays.toString(expectedShape) + " from " + configName + ")");
        }
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new ModelException(file.file() + ": tensor '" + key + "' has shape " + Arrays.toString(info.shape())
                    + ", expected " + Arrays.toString(expectedShape) + " from " + configName);
        }
        used.add(key);
        // The manager's device is where the tensor is created, already in the engine's dtype: an F16 file
        // serves a float16 engine without a float32 copy in between.
        return file.load(key, manager, dtype);
    }

    @Override
    public boolean contains(String key) {
        return file.tensors().containsKey(key);
    }

    /** Tensors in the file that no module asked for: a sign the config and the weights disagree. */
    public Set<String> unused() {
        Set<String> unused = new TreeSet<>(file.tensors().keySet());
        unused.removeAll(used);
        return unused;
    }

    @Override
    public void close() {
        file.close();
    }
}
