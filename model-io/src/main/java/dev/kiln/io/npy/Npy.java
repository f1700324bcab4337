package dev.kiln.io.npy;

import dev.kiln.io.ElementType;
import dev.kiln.io.Shapes;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * NumPy's .npy format: the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), a little-endian header
 * length (2 bytes in version 1, 4 after), a Python-literal header with dtype, order and shape, then the
 * raw array. Little-endian f2/f4/f8/i4/i8 arrays in C order are supported.
 */
public final class Npy {
    /** The six magic bytes every .npy file starts with. */
    public static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Real headers are a few hundred bytes; a larger one is corrupt. */
    private static final int MAX_HEADER_BYTES = 1 << 20;

    private static final Map<String, ElementType> TYPES = Map.of(
            "<f2", ElementType.F16, "<f4", ElementType.F32, "<f8", ElementType.F64,
            "<i4", ElementType.I32, "<i8", ElementType.I64);

    private Npy() {
    }

    /** True when the bytes start with the .npy magic. */
    public static boolean looksLike(byte[] head) {
        return head.length >= MAGIC.length && Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC);
    }

    /** Reads one array. */
    public static TensorData read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer prelude = readAt(ch, 0, (int) Math.min(size, 12), file);
            if (size < 10 || !looksLike(prelude.array())) {
                throw new WeightFormatException(file, "not a .npy file (wrong magic)");
            }
            int major = prelude.get(6) & 0xff;
            int headerLengthBytes = switch (major) {
                case 1 -> 2;
                case 2, 3 -> 4;
                default -> throw new WeightFormatException(file, "unsupported .npy version " + major);
            };
            long headerLength = headerLengthBytes == 2
                    ? prelude.getShort(8) & 0xffffL
                    : (size < 12 ? -1 : prelude.getInt(8) & 0xffffffffL);
            long dataStart = 8 + headerLengthBytes + headerLength;
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES || dataStart > size) {
                throw new WeightFormatException(file, "header length " + headerLength
                        + " does not fit a file of " + size + " bytes (truncated or corrupted)");
            }
            ByteBuffer headerBytes = readAt(ch, 8 + headerLengthBytes, (int) headerLength, file);
            String text = new String(headerBytes.array(),
                    major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            NpyHeader header;
            try {
                header = NpyHeader.parse(text);
            } catch (IllegalArgumentException e) {
                throw new WeightFormatException(file, "corrupted header: " + e.getMessage());
            }
            ElementType type = typeOf(file, header);
            long bytes = Shapes.byteSizeOrInvalid(header.shape, type);
            int[] shape = Shapes.toIntShapeOrNull(header.shape);
            if (bytes < 0 || shape == null) {
                throw new WeightFormatException(file, "shape " + Arrays.toString(header.shape) + " is too large");
            }
            if (bytes != size - dataStart) {
                throw new WeightFormatException(file, "shape " + Arrays.toString(header.shape) + " of " + type
                        + " needs " + bytes + " bytes of data, the file has " + (size - dataStart)
                        + (bytes > size - dataStart ? " (truncated)" : ""));
            }
            return TensorData.adopt(type, shape, readAt(ch, dataStart, (int) bytes, file).array());
        }
    }

    private static ElementType typeOf(Path file, NpyHeader header) throws WeightFormatException {
        if (header.fortranOrder) {
            throw new WeightFormatException(file, "fortran_order arrays are not supported; save with"
                    + " np.save(path, np.ascontiguousarray(a))");
        }
        ElementType type = TYPES.get(header.descr);
        if (type == null) {
            throw new WeightFormatException(file, "unsupported dtype '" + header.descr
                    + "' (supported: " + String.join(", ", new java.util.TreeSet<>(TYPES.keySet())) + ")");
        }
        return type;
    }

    private static ByteBuffer readAt(FileChannel ch, long position, int length, Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new WeightFormatException(file, "file ends early (truncated)");
            }
        }
        return buf.flip();
    }
}
