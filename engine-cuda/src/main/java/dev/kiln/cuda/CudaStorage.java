package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;

/**
 * Device memory for one tensor storage, taken from the {@link CachingDeviceAllocator} and given back to it the
 * moment the last tensor view releases the storage.
 */
public final class CudaStorage extends Storage {
    private final CachingDeviceAllocator allocator;
    private final CachingDeviceAllocator.Block block;

    CudaStorage(Backend backend, DType dtype, long numel, CachingDeviceAllocator allocator) {
        super(backend, dtype, numel);
        this.allocator = allocator;
        this.block = allocator.allocate(numel * dtype.bytes(), "tensor of " + numel + " " + dtype + " elements");
    }

    /** The device address of element 0. */
    public long address() {
        return block.address();
    }

    @Override
    protected void free() {
        allocator.release(block);
    }
}
