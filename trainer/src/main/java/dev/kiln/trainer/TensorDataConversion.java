package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.io.TensorData;
import dev.kiln.tensor.Tensor;

/** Between engine tensors (on any backend) and model-io's backend-free {@link TensorData}, always as F32. */
final class TensorDataConversion {
    private TensorDataConversion() {
    }

    static TensorData toData(Tensor t) {
        return TensorData.ofFloats(t.shape().toArray(), t.toFloatArray());
    }

    /** A new F32 tensor on {@code backend}; the caller owns it (or its memory scope does). */
    static Tensor toTensor(TensorData d, Backend backend) {
        return Tensor.of(backend, d.toFloats(), d.shape());
    }
}
