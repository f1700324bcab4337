package dev.kiln.io.torch;

import dev.kiln.io.ElementType;

/** A PyTorch storage named by a persistent id: its key in the file, element type and element count. */
record StorageRef(String key, ElementType type, long numel) {
}
