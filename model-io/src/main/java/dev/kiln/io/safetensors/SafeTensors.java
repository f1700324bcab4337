package dev.kiln.io.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.io.AtomicFiles;
import dev.kiln.io.ElementType;
import dev.kiln.io.NamedTensors;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON naming every tensor's
 * dtype, shape and [begin, end) byte range in the data section, then the data section. The reader trusts
 * nothing in the header: every size is checked against the file before anything is allocated.
 */
public final class SafeTensors {
    /** Key of the optional string-to-string metadata object in the header. */
    public static final String METADATA_KEY = "__metadata__";
    /** The reference implementation refuses headers above 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {
    }

    /** True when the first bytes of a file look like a safetensors header (used by format sniffing). */
    public static boolean looksLike(byte[] head, long fileSize) {
        if (head.length < 9 || fileSize < 10) {
            return false;
        }
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n > 1 && n <= fileSize - 8 && head[8] == '{';
    }

    /** Reads every tensor and the {@code __metadata__} strings. */
    public static NamedTensors read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new WeightFormatException(file, "not a safetensors file: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            long headerLength = readFully(ch, 0, 8, file).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > size - 8 || headerLength > MAX_HEADER_BYTES) {
                throw new WeightFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " does not fit a file of " + size + " bytes (truncated or not safetensors)");
            }
            ByteBuffer headerBytes = readFully(ch, 8, (int) headerLength, file);
            ObjectNode header = parseHeader(file, headerBytes);
            long dataStart = 8 + headerLength;
            List<Entry> entries = parseEntries(file, header, size - dataStart);

            NamedTensors out = new NamedTensors();
            readMetadata(file, header, out);
            for (Entry e : entries) {
                ByteBuffer data = readFully(ch, dataStart + e.begin, (int) (e.end - e.begin), file);
                out.put(e.name, TensorData.adopt(e.type, e.shape, data.array()));
            }
            return out;
        }
    }

    /**
     * Writes tensors in their map order with the given metadata (may be null or empty), atomically
     * ({@link AtomicFiles}), so that a crash never leaves a half-written weight file under the real name.
     */
    public static void write(Path file, NamedTensors tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, AtomicFiles.BeforeCommit.NOTHING);
    }

    /** Same, running {@code beforeCommit} between the complete temporary file and the rename (tests crash there). */
    public static void write(Path file, NamedTensors tensors, Map<String, String> metadata,
                             AtomicFiles.BeforeCommit beforeCommit) throws IOException {
        byte[] header = headerBytes(tensors, metadata);
        AtomicFiles.write(file, temp -> {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, len.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                for (TensorData t : tensors.asMap().values()) {
                    writeFully(ch, t.buffer());
                }
            }
        }, beforeCommit);
    }

    /** Same as {@link #write(Path, NamedTensors, Map)} with the tensors' own metadata. */
    public static void write(Path file, NamedTensors tensors) throws IOException {
        write(file, tensors, tensors.metadata());
    }

    // ---------------------------------------------------------------- reading helpers

    /** One header entry after validation. */
    private record Entry(String name, ElementType type, int[] shape, long begin, long end) {
    }

    private static ObjectNode parseHeader(Path file, ByteBuffer bytes) throws WeightFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes.array());
        } catch (JsonProcessingException e) {
            throw new WeightFormatException(file, null, "corrupted JSON header: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new WeightFormatException(file, null, "unreadable JSON header: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode obj)) {
            throw new WeightFormatException(file, "JSON header is not an object");
        }
        return obj;
    }

    /** Validates every entry and that the ranges tile the data section exactly, in order of offset. */
    private static List<Entry> parseEntries(Path file, ObjectNode header, long dataLength)
            throws WeightFormatException {
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getKey().equals(METADATA_KEY)) {
                entries.add(parseEntry(file, field.getKey(), field.getValue(), dataLength));
            }
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        for (Entry e : byOffset) {
            if (e.begin != expectedBegin) {
                throw new WeightFormatException(file, e.name, "data_offsets [" + e.begin + ", " + e.end
                        + ") " + (e.begin < expectedBegin ? "overlap" : "leave a gap after")
                        + " the previous tensor ending at " + expectedBegin);
            }
            expectedBegin = e.end;
        }
        if (expectedBegin != dataLength) {
            throw new WeightFormatException(file, "tensors cover " + expectedBegin
                    + " bytes of a data section of " + dataLength + " bytes");
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataLength)
            throws WeightFormatException {
        if (!node.isObject()) {
            throw new WeightFormatException(file, name, "header entry is not an object");
        }
        JsonNode dtype = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || !(shapeNode instanceof ArrayNode shapeArray)
                || !(offsets instanceof ArrayNode offsetArray) || offsetArray.size() != 2) {
            throw new WeightFormatException(file, name,
                    "needs a string 'dtype', an array 'shape' and a two-element array 'data_offsets'");
        }
        ElementType type = ElementType.fromSafetensorsName(dtype.asText());
        if (type == null) {
            throw new WeightFormatException(file, name, "unsupported dtype '" + dtype.asText()
                    + "' (supported: F16, BF16, F32, F64, I32, I64)");
        }
        if (shapeArray.size() > Shapes.MAX_RANK) {
            throw new WeightFormatException(file, name, "rank " + shapeArray.size() + " is not plausible");
        }
        long[] shape = new long[shapeArray.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeInteger(file, name, "shape", shapeArray.get(i));
        }
        long begin = nonNegativeInteger(file, name, "data_offsets", offsetArray.get(0));
        long end = nonNegativeInteger(file, name, "data_offsets", offsetArray.get(1));
        if (begin > end || end > dataLength) {
            throw new WeightFormatException(file, name, "data_offsets [" + begin + ", " + end
                    + ") outside the data section of " + dataLength + " bytes");
        }
        long bytes = Shapes.byteSizeOrInvalid(shape, type);
        int[] intShape = Shapes.toIntShapeOrNull(shape);
        if (bytes < 0 || intShape == null) {
            throw new WeightFormatException(file, name, "shape " + java.util.Arrays.toString(shape)
                    + " is too large for one tensor");
        }
        if (bytes != end - begin) {
            throw new WeightFormatException(file, name, "shape " + java.util.Arrays.toString(shape) + " of "
                    + type + " needs " + bytes + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, type, intShape, begin, end);
    }

    private static long nonNegativeInteger(Path file, String name, String field, JsonNode n)
            throws WeightFormatException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw new WeightFormatException(file, name, "'" + field + "' holds " + n
                    + ", not a non-negative integer");
        }
        return n.asLong();
    }

    private static void readMetadata(Path file, ObjectNode header, NamedTensors out) throws WeightFormatException {
        JsonNode meta = header.get(METADATA_KEY);
        if (meta == null || meta.isNull()) {
            return;
        }
        if (!meta.isObject()) {
            throw new WeightFormatException(file, METADATA_KEY + " is not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!f.getValue().isTextual()) {
                throw new WeightFormatException(file, METADATA_KEY + " value of '" + f.getKey()
                        + "' is not a string");
            }
            out.putMetadata(f.getKey(), f.getValue().asText());
        }
    }

    /** Reads exactly {@code length} bytes at {@code position}; the caller has checked they are in the file. */
    private static ByteBuffer readFully(FileChannel ch, long position, int length, Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) {
                throw new WeightFormatException(file, "file ended early (it was truncated while reading)");
            }
        }
        return buf.flip();
    }

    // ---------------------------------------------------------------- writing helpers

    /** The JSON header, padded with spaces to a multiple of 8 bytes so that the data section is aligned. */
    private static byte[] headerBytes(NamedTensors tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : tensors.asMap().entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor may not be named " + METADATA_KEY);
            }
            TensorData t = e.getValue();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", t.type().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        java.util.Arrays.fill(out, (byte) ' ');
        System.arraycopy(json, 0, out, 0, json.length);
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
