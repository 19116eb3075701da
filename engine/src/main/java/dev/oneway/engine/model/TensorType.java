package dev.oneway.engine.model;

/** The safetensors element types the engine reads and writes. */
public enum TensorType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    TensorType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The type for a safetensors "dtype" string, or null when the engine cannot read it. */
    public static TensorType fromHeader(String dtype) {
        for (TensorType t : values()) {
            if (t.name().equals(dtype)) {
                return t;
            }
        }
        return null;
    }
}
