package dev.kiln.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The argument list of one kernel launch, in the form {@code cuLaunchKernel} takes: an array of pointers, the i-th
 * pointing at host memory that holds the i-th argument's value. Scalars live in 8-byte slots of one host buffer;
 * a struct passed by value gets a buffer of its own. The driver copies the values at launch, so the buffers may be
 * freed right after it ({@link #close()}).
 *
 * <p>The Java type of each call must match the kernel's C parameter: {@link #ptr} for any {@code T*},
 * {@link #i32} for {@code int}, {@link #i64} for {@code long long}, {@link #f32} for {@code float}.
 */
final class KernelArgs implements AutoCloseable {
    private static final int SLOT = 8;

    private final int capacity;
    private final BytePointer values;
    private final PointerPointer<Pointer> pointers;
    private final List<Pointer> structs = new ArrayList<>();
    private final Map<Integer, long[]> structWords = new HashMap<>();
    private final StringBuilder kinds = new StringBuilder();
    private int count;

    KernelArgs(int capacity) {
        this.capacity = capacity;
        this.values = new BytePointer((long) capacity * SLOT);
        this.pointers = new PointerPointer<>(capacity);
    }

    /** A device pointer argument ({@code T*}); 0 passes NULL. */
    KernelArgs ptr(long deviceAddress) {
        values.putLong(slot(), deviceAddress);
        return next('p');
    }

    KernelArgs i32(int value) {
        values.putInt(slot(), value);
        return next('i');
    }

    KernelArgs i64(long value) {
        values.putLong(slot(), value);
        return next('l');
    }

    KernelArgs f32(float value) {
        values.putFloat(slot(), value);
        return next('f');
    }

    /** A struct of 8-byte fields ({@code long long}) passed by value. */
    KernelArgs struct(long[] words) {
        check();
        LongPointer buffer = new LongPointer(words);
        structs.add(buffer);
        structWords.put(count, words.clone());
        pointers.put(count, buffer);
        kinds.append('s');
        count++;
        return this;
    }

    int size() {
        return count;
    }

    /**
     * One letter per argument so far: p pointer, i int, l long long, f float, s struct. Tests compare it with the
     * kernel's C signature, since a mismatch there corrupts arguments silently.
     */
    String kinds() {
        return kinds.toString();
    }

    /** The {@code void** kernelParams} array. */
    PointerPointer<Pointer> pointers() {
        return pointers;
    }

    private long slot() {
        check();
        return (long) count * SLOT;
    }

    private void check() {
        if (count == capacity) throw new IllegalStateException("more kernel arguments than the " + capacity + " declared");
    }

    private KernelArgs next(char kind) {
        kinds.append(kind);
        // The slot's host address, wrapped the same way as a device address.
        pointers.put(count, DevicePointers.at(values.address() + (long) count * SLOT));
        count++;
        return this;
    }

    /** The words of the struct passed as argument {@code i}, for tests. */
    long[] structWords(int i) {
        long[] words = structWords.get(i);
        if (words == null) throw new IllegalArgumentException("argument " + i + " is not a struct");
        return words.clone();
    }

    /** The bytes of slot {@code i}, for tests. */
    long slotValue(int i) {
        return values.getLong((long) i * SLOT);
    }

    @Override
    public void close() {
        for (Pointer p : structs) p.close();
        pointers.close();
        values.close();
    }
}
