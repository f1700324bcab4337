package dev.kiln.io.torch;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.pickle.PickleException;
import dev.kiln.io.pickle.PickleHooks;
import dev.kiln.io.pickle.Unpickler;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The torch.save format before PyTorch 1.6: five pickles in a row (magic number, protocol version,
 * system info, the state_dict, the list of storage keys), then each storage in key-list order as an
 * 8-byte little-endian element count followed by its raw bytes.
 */
final class TorchLegacyReader {
    static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long PROTOCOL_VERSION = 1001;

    private TorchLegacyReader() {
    }

    static NamedTensors read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new WeightFormatException(file, "legacy torch files over 2 GiB are not supported");
            }
            ByteBuffer in = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
            return read(file, in);
        }
    }

    private static NamedTensors read(Path file, ByteBuffer in) throws IOException {
        Object magic = new Unpickler(file, in, PickleHooks.PLAIN_DATA).load();
        if (!MAGIC.equals(magic instanceof Long l ? BigInteger.valueOf(l) : magic)) {
            throw new WeightFormatException(file, "not a torch.save file: wrong magic number");
        }
        Object protocol = new Unpickler(file, in, PickleHooks.PLAIN_DATA).load();
        if (!Long.valueOf(PROTOCOL_VERSION).equals(protocol)) {
            throw new WeightFormatException(file, "unsupported torch.save protocol version "
                    + Unpickler.describe(protocol));
        }
        Object sysInfo = new Unpickler(file, in, PickleHooks.PLAIN_DATA).load();
        if (!(sysInfo instanceof Map<?, ?> info) || !Boolean.TRUE.equals(info.get("little_endian"))) {
            throw new WeightFormatException(file, "only files saved on little-endian machines are supported");
        }
        TorchGlobals globals = new TorchGlobals();
        Object root = new Unpickler(file, in, globals).load();
        Map<String, TensorRef> tensors;
        try {
            tensors = StateDicts.tensors(root);
        } catch (PickleException e) {
            throw new WeightFormatException(file, e.getMessage());
        }
        Object keys = new Unpickler(file, in, PickleHooks.PLAIN_DATA).load();
        Map<String, ByteBuffer> storages = locateStorages(file, in, keys, globals.storages());
        return Materializer.materialize(file, tensors, storage -> {
            ByteBuffer slice = storages.get(storage.key());
            byte[] bytes = new byte[slice.remaining()];
            slice.duplicate().get(bytes);
            return bytes;
        });
    }

    /** Walks the storage section once, checking every count against the pickle and the file's end. */
    private static Map<String, ByteBuffer> locateStorages(Path file, ByteBuffer in, Object keys,
                                                          Map<String, StorageRef> declared)
            throws WeightFormatException {
        if (!(keys instanceof List<?> list)) {
            throw new WeightFormatException(file, "storage key list is " + Unpickler.describe(keys));
        }
        Map<String, ByteBuffer> out = new HashMap<>();
        for (Object k : list) {
            StorageRef ref = k instanceof String s ? declared.get(s) : null;
            if (ref == null || out.containsKey(ref.key())) {
                throw new WeightFormatException(file, "storage key " + Unpickler.describe(k)
                        + " is unknown or repeated");
            }
            if (in.remaining() < 8) {
                throw new WeightFormatException(file, "file ends before storage '" + ref.key() + "' (truncated)");
            }
            long count = in.getLong();
            if (count != ref.numel()) {
                throw new WeightFormatException(file, "storage '" + ref.key() + "' holds " + count
                        + " elements, the pickle declares " + ref.numel());
            }
            long bytes = count * ref.type().byteSize();
            if (bytes > in.remaining()) {
                throw new WeightFormatException(file, "storage '" + ref.key() + "' needs " + bytes
                        + " bytes, only " + in.remaining() + " left (truncated)");
            }
            ByteBuffer slice = in.slice().limit((int) bytes);
            in.position(in.position() + (int) bytes);
            out.put(ref.key(), slice);
        }
        if (out.size() != declared.size()) {
            throw new WeightFormatException(file, "the storage key list misses some storages the tensors use");
        }
        return out;
    }
}
