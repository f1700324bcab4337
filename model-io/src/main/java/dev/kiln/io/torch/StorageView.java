package dev.kiln.io.torch;

/**
 * The elements [offset, offset + size) of a storage. Tensors always refer to a view; it is the whole
 * storage except in old legacy files, which could pickle slices of a storage.
 */
record StorageView(StorageRef root, long offset, long size) {
}
