package dev.kiln.backend.cpu;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Off-heap storage of the CPU backend: a block from the {@link CachingAllocator}, seen as a {@link FloatPointer}
 * (F32, handed to OpenBLAS) or an {@link IntPointer} (I32), plus a direct buffer view for Java loops, which must
 * never go through {@code FloatPointer.get/put} (one JNI call per element).
 */
final class CpuStorage extends Storage {
    private final CachingAllocator allocator;
    private final CachingAllocator.Block block;
    private final FloatPointer floatPointer;
    private final IntPointer intPointer;
    private final FloatBuffer floats;
    private final IntBuffer ints;

    /** @param owner the backend its tensors report: the CPU backend, or a decorator around it (a profiler) */
    CpuStorage(Backend owner, CachingAllocator allocator, DType dtype, long numel) {
        super(owner, dtype, numel);
        if (dtype == DType.F64) {
            throw new UnsupportedOperationException("the cpu backend computes in float32 only; "
                    + "use the reference backend for float64 (gradient checks)");
        }
        if (numel > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu backend: a tensor of " + numel + " elements exceeds 2^31 - 1");
        }
        this.allocator = allocator;
        this.block = allocator.acquire(numel * dtype.bytes());
        if (dtype == DType.F32) {
            floatPointer = block.pointer;
            intPointer = null;
            floats = floatPointer.asBuffer();
            ints = null;
        } else {
            floatPointer = null;
            intPointer = new IntPointer(block.pointer); // a view; the block keeps ownership
            floats = null;
            ints = intPointer.asBuffer();
        }
    }

    @Override
    protected void free() {
        allocator.release(block);
    }

    static CpuStorage of(Tensor t) {
        if (!(t.storage() instanceof CpuStorage s)) {
            throw new IllegalArgumentException("cpu backend: tensor " + t + " does not live on the cpu backend");
        }
        return s;
    }

    /** The F32 data of {@code t}'s storage (index with {@link #offset}). */
    static FloatBuffer floats(Tensor t) {
        CpuStorage s = of(t);
        if (s.floats == null) throw new IllegalArgumentException("cpu backend: expected a float32 tensor, got " + t);
        return s.floats;
    }

    static IntBuffer ints(Tensor t) {
        CpuStorage s = of(t);
        if (s.ints == null) throw new IllegalArgumentException("cpu backend: expected an int32 tensor, got " + t);
        return s.ints;
    }

    /** The F32 pointer (position 0) of {@code t}'s storage, for OpenBLAS. */
    static FloatPointer pointer(Tensor t) {
        CpuStorage s = of(t);
        if (s.floatPointer == null) throw new IllegalArgumentException("cpu backend: expected a float32 tensor, got " + t);
        return s.floatPointer;
    }

    /** The native address of {@code t}'s first element, for Kiln's own kernels. */
    static long address(Tensor t) {
        return pointer(t).address() + t.offset() * Float.BYTES;
    }

    /** A heap copy of a small contiguous F32 tensor (per-channel vectors). */
    static float[] toArray(Tensor t) {
        float[] out = new float[Math.toIntExact(t.numel())];
        floats(t).get(offset(t), out, 0, out.length);
        return out;
    }

    /** The tensor's first element within its storage, as an index for the buffer views. */
    static int offset(Tensor t) {
        return Math.toIntExact(t.offset());
    }
}
