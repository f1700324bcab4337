package dev.kiln.io.torch;

import dev.kiln.io.ElementType;
import dev.kiln.io.pickle.PickleException;
import dev.kiln.io.pickle.PickleHooks;
import dev.kiln.io.pickle.PyTuple;
import dev.kiln.io.pickle.Unpickler;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the globals of a state_dict pickle stand for. This allowlist is the security boundary of the
 * PyTorch readers: a name not listed here (os.system, builtins.eval, a model class...) is refused when
 * the pickle names it, before anything could call it, and nothing is ever executed; the listed names
 * are interpreted by Java code here, never looked up anywhere.
 */
final class TorchGlobals implements PickleHooks {
    /** The callables a state_dict needs. */
    enum Function { ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_FROM_TYPE, TENSOR_TYPE }

    /** A torch.*Storage class; type is null for storages this reader cannot convert (bool, uint8...). */
    record StorageClass(String name, ElementType type) {
    }

    private static final Map<String, Object> ALLOWED = new HashMap<>();

    static {
        ALLOWED.put("collections.OrderedDict", Function.ORDERED_DICT);
        ALLOWED.put("torch._utils._rebuild_tensor", Function.REBUILD_TENSOR);
        ALLOWED.put("torch._utils._rebuild_tensor_v2", Function.REBUILD_TENSOR);
        ALLOWED.put("torch._utils._rebuild_parameter", Function.REBUILD_PARAMETER);
        ALLOWED.put("torch._utils._rebuild_parameter_with_state", Function.REBUILD_PARAMETER);
        ALLOWED.put("torch._tensor._rebuild_from_type_v2", Function.REBUILD_FROM_TYPE);
        ALLOWED.put("torch.nn.parameter.Parameter", Function.TENSOR_TYPE);
        ALLOWED.put("torch._tensor.Tensor", Function.TENSOR_TYPE);
        ALLOWED.put("torch.Tensor", Function.TENSOR_TYPE);
        storage("FloatStorage", ElementType.F32);
        storage("DoubleStorage", ElementType.F64);
        storage("HalfStorage", ElementType.F16);
        storage("BFloat16Storage", ElementType.BF16);
        storage("IntStorage", ElementType.I32);
        storage("LongStorage", ElementType.I64);
        for (String unsupported : new String[] {"ByteStorage", "CharStorage", "ShortStorage", "BoolStorage"}) {
            storage(unsupported, null);
        }
    }

    private static void storage(String name, ElementType type) {
        ALLOWED.put("torch." + name, new StorageClass(name, type));
    }

    /** Storages by key, so that tensors sharing a storage share one read. */
    private final Map<String, StorageRef> storages = new LinkedHashMap<>();

    Map<String, StorageRef> storages() {
        return storages;
    }

    @Override
    public Object global(String module, String name) throws PickleException {
        Object o = ALLOWED.get(module + "." + name);
        if (o == null) {
            throw new PickleException("refused global '" + module + "." + name + "': only the globals of a"
                    + " state_dict are allowed (save model.state_dict(), not the model); nothing was executed");
        }
        return o;
    }

    @Override
    public Object reduce(Object callable, PyTuple args) throws PickleException {
        if (!(callable instanceof Function f) || f == Function.TENSOR_TYPE) {
            throw new PickleException("cannot call " + Unpickler.describe(callable));
        }
        switch (f) {
            case ORDERED_DICT -> {
                if (args.size() != 0) {
                    throw new PickleException("OrderedDict with arguments is not supported");
                }
                return new LinkedHashMap<Object, Object>();
            }
            case REBUILD_TENSOR -> {
                return rebuildTensor(args);
            }
            case REBUILD_PARAMETER -> {
                // (data, requires_grad, backward_hooks[, state]): a Parameter is its data for reading.
                return tensorArg(args, 0, "_rebuild_parameter");
            }
            default -> { // REBUILD_FROM_TYPE: (func, type, args, state) for tensor subclasses
                if (args.size() < 3 || args.get(0) == Function.REBUILD_FROM_TYPE
                        || args.get(1) != Function.TENSOR_TYPE || !(args.get(2) instanceof PyTuple inner)) {
                    throw new PickleException("unsupported _rebuild_from_type_v2 arguments");
                }
                return reduce(args.get(0), inner);
            }
        }
    }

    /** (storage, storage_offset, size, stride[, requires_grad, backward_hooks, metadata]). */
    private static TensorRef rebuildTensor(PyTuple args) throws PickleException {
        if (args.size() < 4 || !(args.get(0) instanceof StorageView storage)) {
            throw new PickleException("_rebuild_tensor needs (storage, offset, size, stride, ...)");
        }
        long offset = nonNegative(args.get(1), "storage offset");
        long[] shape = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (shape.length != stride.length) {
            throw new PickleException("size has " + shape.length + " dimensions but stride " + stride.length);
        }
        if (args.size() > 5 && args.get(5) instanceof Map<?, ?> hooks && !hooks.isEmpty()) {
            throw new PickleException("tensors with backward hooks are not supported");
        }
        return new TensorRef(storage, offset, shape, stride);
    }

    private static TensorRef tensorArg(PyTuple args, int i, String what) throws PickleException {
        if (args.size() <= i || !(args.get(i) instanceof TensorRef t)) {
            throw new PickleException(what + " expects a tensor");
        }
        return t;
    }

    @Override
    public Object build(Object target, Object state) throws PickleException {
        // BUILD sets attributes, never items: an OrderedDict gets its _metadata (module versions), a
        // Parameter its __dict__. Neither holds tensor data, so the state is dropped.
        if (target instanceof Map<?, ?> || target instanceof TensorRef) {
            return target;
        }
        throw new PickleException("BUILD on " + Unpickler.describe(target) + " is not supported");
    }

    /** ('storage', storage class, key, location, numel[, view metadata]). */
    @Override
    public Object persistentLoad(Object pid) throws PickleException {
        if (!(pid instanceof PyTuple t) || t.size() < 5 || !"storage".equals(t.get(0))) {
            throw new PickleException("unsupported persistent id " + Unpickler.describe(pid));
        }
        if (!(t.get(1) instanceof StorageClass sc)) {
            throw new PickleException("persistent id names " + Unpickler.describe(t.get(1))
                    + ", not a storage class");
        }
        if (sc.type() == null) {
            throw new PickleException("torch." + sc.name() + " is not supported (F16, BF16, F32, F64, I32, I64 are)");
        }
        String key = String.valueOf(t.get(2) instanceof Long l ? l : t.get(2));
        if (!(t.get(2) instanceof String || t.get(2) instanceof Long) || !key.matches("[A-Za-z0-9_]{1,64}")) {
            throw new PickleException("bad storage key " + Unpickler.describe(t.get(2)));
        }
        long numel = nonNegative(t.get(4), "storage size");
        if (numel > (Integer.MAX_VALUE - 8) / sc.type().byteSize()) {
            throw new PickleException("storage '" + key + "' of " + numel + " elements is over 2 GiB,"
                    + " more than one Java array holds");
        }
        StorageRef root = storages.get(key);
        if (root == null) {
            root = new StorageRef(key, sc.type(), numel);
            storages.put(key, root);
        } else if (root.type() != sc.type() || root.numel() != numel) {
            throw new PickleException("storage '" + key + "' is declared twice with different type or size");
        }
        if (t.size() > 5 && t.get(5) instanceof PyTuple view) {
            // legacy storage slice: (view_key, offset, size) in elements of the root
            if (view.size() != 3) {
                throw new PickleException("bad storage view " + Unpickler.describe(view));
            }
            long offset = nonNegative(view.get(1), "view offset");
            long size = nonNegative(view.get(2), "view size");
            if (offset > numel || size > numel - offset) {
                throw new PickleException("storage view [" + offset + ", +" + size + ") outside storage '"
                        + key + "' of " + numel + " elements");
            }
            return new StorageView(root, offset, size);
        }
        return new StorageView(root, 0, numel);
    }

    private static long nonNegative(Object o, String what) throws PickleException {
        if (!(o instanceof Long l) || l < 0) {
            throw new PickleException(what + " is " + Unpickler.describe(o) + ", not a non-negative integer");
        }
        return l;
    }

    private static long[] longs(Object o, String what) throws PickleException {
        if (!(o instanceof PyTuple t)) {
            throw new PickleException(what + " is " + Unpickler.describe(o) + ", not a tuple");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nonNegative(t.get(i), what);
        }
        return out;
    }
}
