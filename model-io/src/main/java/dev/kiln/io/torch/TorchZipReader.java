package dev.kiln.io.torch;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.pickle.PickleException;
import dev.kiln.io.pickle.Unpickler;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The torch.save format since PyTorch 1.6: a zip archive with one top folder (its name varies) holding
 * {@code data.pkl}, the pickled state_dict, and {@code data/<key>}, the raw bytes of each storage.
 */
final class TorchZipReader {
    /** Deflate cannot expand data by more than about 1032 times; larger claims are corrupt. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    private TorchZipReader() {
    }

    static NamedTensors read(Path file) throws IOException {
        long fileSize = Files.size(file);
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new WeightFormatException(file, "corrupted or truncated zip archive: " + e.getMessage());
        }
        try (zip) {
            String prefix = findPrefix(file, zip);
            checkByteOrder(file, zip, prefix, fileSize);
            byte[] pickle = readEntry(zip, zip.getEntry(prefix + "data.pkl"), -1, fileSize);
            TorchGlobals globals = new TorchGlobals();
            Object root = new Unpickler(file, ByteBuffer.wrap(pickle), globals).load();
            Map<String, TensorRef> tensors;
            try {
                tensors = StateDicts.tensors(root);
            } catch (PickleException e) {
                throw new WeightFormatException(file, e.getMessage());
            }
            return Materializer.materialize(file, tensors, storage -> {
                ZipEntry entry = zip.getEntry(prefix + "data/" + storage.key());
                if (entry == null) {
                    throw new IOException("archive has no entry " + prefix + "data/" + storage.key());
                }
                return readEntry(zip, entry, storage.numel() * storage.type().byteSize(), fileSize);
            });
        } catch (ZipException e) {
            throw new WeightFormatException(file, "corrupted zip archive: " + e.getMessage());
        }
    }

    /** The top folder, found from the one entry named {@code <folder>/data.pkl}. */
    private static String findPrefix(Path file, ZipFile zip) throws WeightFormatException {
        List<String> found = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            String name = en.nextElement().getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                found.add(name.substring(0, slash + 1));
            }
        }
        if (found.size() != 1) {
            throw new WeightFormatException(file, found.isEmpty()
                    ? "zip archive without <folder>/data.pkl: not a PyTorch file"
                    : "zip archive with " + found.size() + " data.pkl entries");
        }
        return found.get(0);
    }

    /** Newer archives record the byte order of the storages; only little-endian is supported. */
    private static void checkByteOrder(Path file, ZipFile zip, String prefix, long fileSize) throws IOException {
        ZipEntry entry = zip.getEntry(prefix + "byteorder");
        if (entry != null) {
            String order = new String(readEntry(zip, entry, -1, fileSize), StandardCharsets.US_ASCII).trim();
            if (!order.equals("little")) {
                throw new WeightFormatException(file, "storages are '" + order + "'-endian; only little is supported");
            }
        }
    }

    /**
     * Reads an entry, exactly {@code expected} bytes when that is known (-1 otherwise). Declared sizes are
     * bounded by what the file could hold, and the read grows its buffer only as real bytes arrive, so a
     * lying header cannot make it allocate much more than the file's size.
     */
    private static byte[] readEntry(ZipFile zip, ZipEntry entry, long expected, long fileSize) throws IOException {
        long declared = entry.getSize();
        if (expected >= 0 && declared >= 0 && declared != expected) {
            throw new IOException("entry " + entry.getName() + " holds " + declared + " bytes, the pickle"
                    + " declares " + expected);
        }
        long want = expected >= 0 ? expected : declared;
        long limit = entry.getMethod() == ZipEntry.STORED ? fileSize : fileSize * MAX_DEFLATE_RATIO;
        long cap = Math.min(limit, Integer.MAX_VALUE - 8);
        if (want > cap) {
            throw new IOException("entry " + entry.getName() + " declares " + want
                    + " bytes, more than the file can hold");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] data = in.readNBytes((int) (want >= 0 ? want : cap));
            if (want >= 0 && data.length != want) {
                throw new IOException("entry " + entry.getName() + " ends after " + data.length + " of "
                        + want + " bytes (truncated)");
            }
            if (in.read() != -1) {
                throw new IOException("entry " + entry.getName() + " is longer than declared");
            }
            return data;
        }
    }
}
