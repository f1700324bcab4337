package dev.kiln.io.npy;

import dev.kiln.io.ElementType;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class NpyTest {
    @TempDir
    Path tmp;

    /** Builds a .npy file the way numpy does: magic, version, header padded with spaces to 64 bytes. */
    static byte[] npy(int version, String header, byte[] data) {
        byte[] h = (header + "\n").getBytes(StandardCharsets.UTF_8);
        int lengthBytes = version == 1 ? 2 : 4;
        int pad = (64 - (8 + lengthBytes + h.length) % 64) % 64;
        byte[] padded = Arrays.copyOf(h, h.length + pad);
        Arrays.fill(padded, h.length - 1, padded.length - 1, (byte) ' ');
        padded[padded.length - 1] = '\n';
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Npy.MAGIC);
        out.write(version);
        out.write(0);
        ByteBuffer len = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (version == 1) {
            len.putShort((short) padded.length);
        } else {
            len.putInt(padded.length);
        }
        out.writeBytes(len.array());
        out.writeBytes(padded);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** A small valid .npy (one f4 value), for other tests. */
    public static byte[] npyBytes() {
        return npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static byte[] le(int bytesPerValue, long... values) {
        ByteBuffer b = ByteBuffer.allocate(bytesPerValue * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            if (bytesPerValue == 4) {
                b.putInt((int) v);
            } else {
                b.putLong(v);
            }
        }
        return b.array();
    }

    private WeightFormatException fails(Path p) {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e;
    }

    @Test
    void readsEveryVersionAndType() throws IOException {
        TensorData f4 = TensorData.ofFloats(new int[] {2, 2}, new float[] {1, 2, 3, 4});
        for (int v = 1; v <= 3; v++) {
            Path p = write("f4_v" + v + ".npy", npy(v,
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f4.toBytes()));
            assertEquals(f4, Npy.read(p));
        }
        Path f8 = write("f8.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                TensorData.ofDoubles(new int[] {1}, new double[] {0.1}).toBytes()));
        assertArrayEquals(new double[] {0.1}, Npy.read(f8).toDoubles());
        Path i4 = write("i4.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                le(4, 1, -2, 3)));
        assertArrayEquals(new int[] {1, -2, 3}, Npy.read(i4).toInts());
        Path i8 = write("i8.npy", npy(2, "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (), }",
                le(8, Long.MIN_VALUE)));
        TensorData scalar = Npy.read(i8);
        assertEquals(ElementType.I64, scalar.type());
        assertEquals(0, scalar.rank());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, scalar.toLongs());
    }

    @Test
    void refusesFortranOrder() throws IOException {
        Path p = write("f.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]));
        assertTrue(fails(p).getMessage().contains("fortran_order"));
    }

    @Test
    void refusesBadInput() throws IOException {
        String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
        byte[] good = npy(1, ok, new byte[16]);
        assertTrue(fails(write("magic.npy", "NUMPY not really".getBytes())).getMessage().contains("magic"));
        for (int cut : new int[] {0, 3, 9, 20, good.length - 1}) {
            fails(write("cut" + cut + ".npy", Arrays.copyOf(good, cut)));
        }
        assertTrue(fails(write("big.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                new byte[4]))).getMessage().contains("'>f4'"));
        assertTrue(fails(write("huge.npy", npy(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }", new byte[4])))
                .getMessage().contains("too large"));
        assertTrue(fails(write("long.npy", npy(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", new byte[4])))
                .getMessage().contains("truncated"));
        for (String bad : new String[] {"{'descr': '<f4', 'shape': (2, 2), }", "{'descr': '<f4'",
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 2), }",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }",
                "__import__('os').system('echo pwned')"}) {
            assertTrue(fails(write("bad.npy", npy(1, bad, new byte[16]))).getMessage().contains("header"), bad);
        }
        // a version-2 header length of 4 GB
        byte[] v2 = npy(2, ok, new byte[16]);
        ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -1);
        assertTrue(fails(write("v2.npy", v2)).getMessage().contains("header length"));
    }

    @Test
    void directoryUsesFileNamesInNaturalOrder() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("weights"));
        String h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
        for (String n : new String[] {"conv10_bias", "conv2_bias", "conv1_weight"}) {
            Files.write(dir.resolve(n + ".npy"), npy(1, h, new byte[4]));
        }
        Files.writeString(dir.resolve("README.md"), "ignored");
        NamedTensors t = NpyDirectory.read(dir);
        assertEquals(List.of("conv1_weight", "conv2_bias", "conv10_bias"), new ArrayList<>(t.names()));
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> NpyDirectory.read(Files.createDirectory(tmp.resolve("none"))));
        assertTrue(e.getMessage().contains("no .npy"), e.getMessage());
    }

    @Test
    void readsSqueezeNet() throws IOException {
        Path dir = SharedData.require("data/squeezenet1_1");
        NamedTensors t = NpyDirectory.read(dir);
        assertEquals(52, t.size());
        assertEquals("squeezenet0_conv0_bias", t.names().iterator().next());
        assertArrayEquals(new int[] {64, 3, 3, 3}, t.get("squeezenet0_conv0_weight").shape());
        long params = t.asMap().values().stream().mapToLong(TensorData::numel).sum();
        assertEquals(1_235_496, params);
    }
}
