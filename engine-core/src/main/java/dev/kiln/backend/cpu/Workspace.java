package dev.kiln.backend.cpu;

import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * A grow-only scratch buffer (im2col matrices and the like), kept across calls so a training step does not
 * allocate, fault in and free tens of megabytes per convolution. Not thread-safe: the owner serializes its use.
 */
final class Workspace {
    private FloatPointer pointer;
    private FloatBuffer buffer;
    private long capacity;

    /** Ensures room for {@code floats} elements; the contents are undefined afterwards. */
    void ensure(long floats) {
        if (floats <= capacity) return;
        if (floats > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu backend: a workspace of " + floats + " floats exceeds 2^31 - 1");
        }
        release();
        // Grow by 25% beyond the request, so a slowly growing sequence of shapes does not reallocate each time.
        long size = Math.min(Integer.MAX_VALUE, Math.max(floats, floats + floats / 4));
        pointer = new FloatPointer(size);
        org.bytedeco.javacpp.Pointer.memset(pointer, 0, size * Float.BYTES); // pre-touch the pages once
        buffer = pointer.asBuffer();
        capacity = size;
    }

    FloatPointer pointer() {
        return pointer;
    }

    FloatBuffer buffer() {
        return buffer;
    }

    long bytes() {
        return capacity * Float.BYTES;
    }

    void release() {
        if (pointer != null) pointer.close();
        pointer = null;
        buffer = null;
        capacity = 0;
    }
}
