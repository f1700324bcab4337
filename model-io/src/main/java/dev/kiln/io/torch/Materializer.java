package dev.kiln.io.torch;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.Shapes;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Reads each storage once and cuts every tensor out of it as a contiguous array. */
final class Materializer {
    private Materializer() {
    }

    static NamedTensors materialize(Path file, Map<String, TensorRef> tensors, StorageSource source)
            throws IOException {
        Map<StorageRef, byte[]> loaded = new HashMap<>();
        NamedTensors out = new NamedTensors();
        for (Map.Entry<String, TensorRef> e : tensors.entrySet()) {
            String name = e.getKey();
            TensorRef t = e.getValue();
            StorageView view = t.storage();
            byte[] storage = loaded.get(view.root());
            if (storage == null) {
                try {
                    storage = source.read(view.root());
                } catch (IOException ex) {
                    throw new WeightFormatException(file, name, "storage '" + view.root().key() + "': "
                            + ex.getMessage(), ex);
                }
                loaded.put(view.root(), storage);
            }
            int[] shape = Shapes.toIntShapeOrNull(t.shape());
            if (shape == null || Shapes.numelOrInvalid(t.shape()) < 0) {
                throw new WeightFormatException(file, name, "size " + java.util.Arrays.toString(t.shape())
                        + " is too large");
            }
            byte[] bytes;
            try {
                long first = Math.addExact(view.offset(), t.offset());
                long available = view.offset() + view.size();
                bytes = StridedCopy.contiguous(storage, view.root().type().byteSize(), first, available,
                        t.shape(), t.stride());
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw new WeightFormatException(file, name, "storage '" + view.root().key() + "': "
                        + ex.getMessage());
            }
            out.put(name, TensorData.adopt(view.root().type(), shape, bytes));
        }
        return out;
    }
}
