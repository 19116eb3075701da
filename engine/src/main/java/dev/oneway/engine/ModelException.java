package dev.oneway.engine;

/** A model folder that cannot be used: the message names the file, the key and what was expected. */
public class ModelException extends RuntimeException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
