package dev.kiln.io.torch;

import java.io.IOException;

/** Where a torch file format keeps the bytes of its storages. */
interface StorageSource {
    /**
     * Exactly numel * element size bytes of the storage, little-endian. Throws an IOException whose
     * message says what is wrong (the caller adds the file and tensor name) if the file disagrees.
     */
    byte[] read(StorageRef storage) throws IOException;
}
