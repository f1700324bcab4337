package dev.kiln.nn;

/**
 * Whether a forward pass is training or inference. It is an explicit argument of every forward pass, never hidden
 * state: {@code TRAIN} makes trainable BatchNormalization layers use batch statistics and Dropout drop; {@code EVAL}
 * does neither. A frozen BatchNormalization runs in inference mode whatever the mode (Keras semantics).
 */
public enum Mode {
    TRAIN, EVAL
}
