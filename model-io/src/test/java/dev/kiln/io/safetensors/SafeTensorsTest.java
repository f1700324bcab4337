package dev.kiln.io.safetensors;

import dev.kiln.io.ElementType;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    private static NamedTensors sample() {
        return new NamedTensors()
                .put("conv.weight", TensorData.ofFloats(new int[] {2, 1, 2}, new float[] {1, -2, 3.5f, 1e-8f}))
                .put("bn.num_batches_tracked", TensorData.ofLongs(new int[] {}, new long[] {7}))
                .put("ids", TensorData.ofInts(new int[] {3}, new int[] {1, -1, Integer.MAX_VALUE}))
                .put("double", TensorData.ofDoubles(new int[] {1, 1}, new double[] {Math.PI}))
                .put("half", TensorData.ofBytes(ElementType.F16, new int[] {2}, new byte[] {0, 0x3c, 0, (byte) 0xc0}))
                .put("empty", TensorData.ofFloats(new int[] {0, 4}, new float[0]));
    }

    /** A file with the given JSON header and data section. */
    private Path raw(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static WeightFormatException fails(Path p) {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e;
    }

    @Test
    void roundTripKeepsOrderBitsAndMetadata() throws IOException {
        Path p = tmp.resolve("m.safetensors");
        NamedTensors in = sample();
        SafeTensors.write(p, in, Map.of("format", "pt"));
        NamedTensors out = SafeTensors.read(p);
        assertEquals(new ArrayList<>(in.names()), new ArrayList<>(out.names()));
        for (String n : in.names()) {
            assertEquals(in.get(n), out.get(n), n);
        }
        assertEquals(Map.of("format", "pt"), out.metadata());
        assertArrayEquals(new float[] {1, -2}, out.get("half").toFloats());
        long headerLength = Files.size(p) - 8 - dataBytes(in);
        assertEquals(0, headerLength % 8, "header padded so that the data section is 8-byte aligned");
    }

    private static long dataBytes(NamedTensors t) {
        return t.asMap().values().stream().mapToLong(TensorData::byteSize).sum();
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFiles() throws IOException {
        Path p = tmp.resolve("w.safetensors");
        Files.writeString(p, "old contents");
        SafeTensors.write(p, sample(), null);
        assertEquals(sample().size(), SafeTensors.read(p).size());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(p), s.toList());
        }
    }

    @Test
    void rejectsTruncatedFiles() throws IOException {
        Path good = tmp.resolve("g.safetensors");
        SafeTensors.write(good, sample(), Map.of());
        byte[] all = Files.readAllBytes(good);
        for (int cut : new int[] {0, 5, 8, 20, all.length - 1}) {
            Path p = tmp.resolve("cut" + cut);
            Files.write(p, Arrays.copyOf(all, cut));
            fails(p);
        }
    }

    @Test
    void rejectsHugeHeaderLengthWithoutAllocating() throws IOException {
        Path p = tmp.resolve("huge");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 62).array());
        assertTrue(fails(p).getMessage().contains("header length"));
        Path q = tmp.resolve("negative");
        Files.write(q, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        assertTrue(fails(q).getMessage().contains("18446744073709551615"));
    }

    @Test
    void rejectsCorruptedJson() throws IOException {
        fails(raw("a", "{\"x\": {\"dtype\": \"F32\"", 0));
        fails(raw("b", "[1, 2]", 0));
        fails(raw("c", "{\"x\": 1}", 0));
        assertTrue(fails(raw("d", "{\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).getMessage()
                .contains("Duplicate"));
    }

    @Test
    void errorsNameTheTensor() throws IOException {
        String[][] cases = {
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes"},
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,400]}}", "outside"},
            {"{\"w\": {\"dtype\":\"U7\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unsupported dtype"},
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "non-negative"},
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[4294967296, 4294967296],\"data_offsets\":[0,4]}}", "too large"},
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "outside"},
            {"{\"w\": {\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets"},
        };
        int i = 0;
        for (String[] c : cases) {
            WeightFormatException e = fails(raw("e" + i++, c[0], 4));
            assertEquals("w", e.key(), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void rangesMustTileTheDataSection() throws IOException {
        String overlap = "{\"a\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertTrue(fails(raw("o", overlap, 8)).getMessage().contains("overlap"));
        String gap = "{\"a\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertTrue(fails(raw("g", gap, 8)).getMessage().contains("gap"));
        String trailing = "{\"a\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertTrue(fails(raw("t", trailing, 8)).getMessage().contains("cover"));
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        assertTrue(fails(raw("m", "{\"__metadata__\": {\"epoch\": 3}}", 0)).getMessage().contains("epoch"));
    }
}
