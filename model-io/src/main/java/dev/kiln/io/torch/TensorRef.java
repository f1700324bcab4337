package dev.kiln.io.torch;

/** A tensor as the pickle describes it: a strided window onto a storage, data not yet read. */
record TensorRef(StorageView storage, long offset, long[] shape, long[] stride) {
}
