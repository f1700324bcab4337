package dev.kiln.tensor;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;

import java.util.Arrays;

/**
 * An n-dimensional array on one backend, and a vertex of the autograd graph.
 *
 * <p>Memory: a tensor is a view (shape, strides, offset) over a reference-counted {@link Storage}. Kernels require
 * contiguous tensors; {@link #contiguous()} copies when a view is not. {@link #close()} releases the view's hold on
 * the storage; tensors created inside a {@link MemoryScope} are closed when the scope closes.
 *
 * <p>Autograd: a tensor that {@link #requiresGrad()} either is a leaf (a trainable parameter, {@link #gradFn()} is
 * null) or was produced by an op whose {@link Node} is its {@code gradFn}. Leaf gradients accumulate into
 * {@link #grad()} across backward passes; the trainer zeroes them every step.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final Shape shape;
    private final long[] strides;
    private final long offset;
    private boolean closed;

    private boolean requiresGrad;
    private Node gradFn;
    private Tensor grad;

    private Tensor(Storage storage, Shape shape, long[] strides, long offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        MemoryScope.track(this);
    }

    // ---------------------------------------------------------------- creation

    /** A new, uninitialized contiguous tensor on {@code backend}. */
    public static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return new Tensor(backend.allocate(dtype, shape.numel()), shape, shape.contiguousStrides(), 0);
    }

    public static Tensor zeros(Backend backend, DType dtype, Shape shape) {
        Tensor t = empty(backend, dtype, shape);
        backend.fill(t, 0.0);
        return t;
    }

    /** A new tensor with the same backend, dtype and shape as {@code like}. */
    public static Tensor emptyLike(Tensor like) {
        return empty(like.backend(), like.dtype(), like.shape());
    }

    public static Tensor of(Backend backend, float[] data, int... dims) {
        Shape shape = Shape.of(dims);
        checkLength(data.length, shape);
        Tensor t = empty(backend, DType.F32, shape);
        backend.write(t, data);
        return t;
    }

    public static Tensor of(Backend backend, double[] data, int... dims) {
        Shape shape = Shape.of(dims);
        checkLength(data.length, shape);
        Tensor t = empty(backend, DType.F64, shape);
        backend.write(t, data);
        return t;
    }

    public static Tensor ofLabels(Backend backend, int[] labels) {
        Tensor t = empty(backend, DType.I32, Shape.of(labels.length));
        backend.write(t, labels);
        return t;
    }

    /** On the default backend ({@link Backends#defaultBackend()}). */
    public static Tensor of(float[] data, int... dims) {
        return of(Backends.defaultBackend(), data, dims);
    }

    private static void checkLength(int length, Shape shape) {
        if (length != shape.numel()) {
            throw new IllegalArgumentException(
                    "tensor data has " + length + " elements, shape " + shape + " needs " + shape.numel());
        }
    }

    // ---------------------------------------------------------------- geometry

    public Shape shape() {
        return shape;
    }

    public int dim(int i) {
        return shape.dim(i);
    }

    public int rank() {
        return shape.rank();
    }

    public long numel() {
        return shape.numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Backend backend() {
        return storage.backend();
    }

    /** The underlying memory. Backends read it in kernels; user code rarely needs it. */
    public Storage storage() {
        checkOpen();
        return storage;
    }

    /** Offset of element (0, …, 0) in the storage, in elements. */
    public long offset() {
        return offset;
    }

    public long[] strides() {
        return strides.clone();
    }

    public long stride(int i) {
        return strides[i < 0 ? strides.length + i : i];
    }

    public boolean isContiguous() {
        return Arrays.equals(strides, shape.contiguousStrides()) || shape.numel() <= 1;
    }

    /** This tensor if it is contiguous, otherwise a contiguous copy (not tracked by autograd). */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        Tensor copy = emptyLike(this);
        backend().copy(this, copy);
        return copy;
    }

    /**
     * A view with another shape over the same contiguous memory (no copy, no autograd record). Use
     * {@code Ops.reshape} when gradients must flow through the reshape.
     */
    public Tensor view(int... dims) {
        checkOpen();
        Shape target = Shape.of(dims);
        if (target.numel() != numel()) {
            throw new IllegalArgumentException("view: cannot view shape " + shape + " as " + target);
        }
        if (!isContiguous()) throw new IllegalStateException("view: tensor of shape " + shape + " is not contiguous");
        storage.retain();
        return new Tensor(storage, target, target.contiguousStrides(), offset);
    }

    /**
     * A view of {@code length} entries of dimension {@code dim}, starting at {@code start} (no copy, not tracked by
     * autograd).
     */
    public Tensor narrow(int dim, int start, int length) {
        checkOpen();
        int d = dim < 0 ? rank() + dim : dim;
        if (start < 0 || length < 0 || start + length > shape.dim(d)) {
            throw new IndexOutOfBoundsException(
                    "narrow: [" + start + ", " + (start + length) + ") is outside dimension " + d + " of " + shape);
        }
        storage.retain();
        return new Tensor(storage, shape.withDim(d, length), strides.clone(), offset + start * strides[d]);
    }

    /** A view with dimensions {@code a} and {@code b} swapped (no copy, not tracked by autograd). */
    public Tensor transpose(int a, int b) {
        checkOpen();
        int[] dims = shape.toArray();
        long[] s = strides.clone();
        int t = dims[a]; dims[a] = dims[b]; dims[b] = t;
        long u = s[a]; s[a] = s[b]; s[b] = u;
        storage.retain();
        return new Tensor(storage, Shape.of(dims), s, offset);
    }

    // ---------------------------------------------------------------- data

    public float[] toFloatArray() {
        return backend().readFloats(contiguous());
    }

    public double[] toDoubleArray() {
        return backend().readDoubles(contiguous());
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item: tensor of shape " + shape + " has " + numel() + " elements");
        return toDoubleArray()[0];
    }

    /** A copy on {@code target} with the same dtype (this tensor itself if it is already there). */
    public Tensor to(Backend target) {
        return to(target, dtype());
    }

    /** A copy on {@code target} converted to {@code type} (this tensor itself if nothing changes). Not tracked. */
    public Tensor to(Backend target, DType type) {
        if (target == backend() && type == dtype()) return this;
        Tensor out = empty(target, type, shape);
        switch (type) {
            case F32 -> target.write(out, dtype() == DType.F32 ? toFloatArray() : toFloats(toDoubleArray()));
            case F64 -> target.write(out, toDoubleArray());
            case I32 -> {
                double[] d = toDoubleArray();
                int[] ints = new int[d.length];
                for (int i = 0; i < d.length; i++) ints[i] = (int) d[i];
                target.write(out, ints);
            }
        }
        return out;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /** Overwrites this tensor's elements with {@code src}'s (same shape, any dtype conversion by the backend). */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape)) {
            throw new IllegalArgumentException("copyFrom: source shape " + src.shape + " differs from " + shape);
        }
        if (src.backend() == backend()) {
            backend().copy(src, this);
            return;
        }
        try (Tensor here = src.to(backend())) { // the staging copy on this backend is freed at once
            backend().copy(here, this);
        }
    }

    // ---------------------------------------------------------------- autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor (a parameter) as needing a gradient. */
    public Tensor setRequiresGrad(boolean requiresGrad) {
        if (gradFn != null && !requiresGrad) {
            throw new IllegalStateException("setRequiresGrad(false) on a tensor computed by " + gradFn.name()
                    + "; use detach()");
        }
        this.requiresGrad = requiresGrad;
        return this;
    }

    /** The node that produced this tensor, or null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    /** Called by {@link Node} when it records an op that produced this tensor. */
    public void setGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    /** The accumulated gradient of a leaf, or null before the first backward pass reaches it. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor grad) {
        if (grad != null && !grad.shape.equals(shape)) {
            throw new IllegalArgumentException("gradient shape " + grad.shape + " differs from tensor shape " + shape);
        }
        this.grad = grad;
    }

    /**
     * True when this tensor is the only view of its storage and covers all of it, so writing into it in place
     * cannot change any other tensor.
     */
    public boolean ownsStorage() {
        return !closed && storage.references() == 1 && offset == 0 && isContiguous() && storage.numel() == numel();
    }

    /** A view sharing the storage that autograd does not track. */
    public Tensor detach() {
        checkOpen();
        storage.retain();
        return new Tensor(storage, shape, strides.clone(), offset);
    }

    // ---------------------------------------------------------------- lifetime

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("tensor of shape " + shape + " was already closed");
    }

    /** Releases this view's hold on the storage. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        storage.release();
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype() + " on " + backend().name() + (requiresGrad ? " requiresGrad" : "");
    }
}
