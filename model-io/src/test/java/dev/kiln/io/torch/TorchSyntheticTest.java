package dev.kiln.io.torch;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.pickle.PickleBuilder;
import dev.kiln.io.pickle.PickleHooks;
import dev.kiln.io.pickle.Unpickler;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-built torch.save archives: strides, offsets, shared storages, and hostile contents. */
class TorchSyntheticTest {
    @TempDir
    Path tmp;

    /** Writes a zip-format torch file with the given data.pkl and storages. */
    private Path torchZip(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path p = tmp.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(p))) {
            out.putNextEntry(new ZipEntry("model/data.pkl"));
            out.write(pickle);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                out.putNextEntry(new ZipEntry("model/data/" + e.getKey()));
                out.write(e.getValue());
            }
            out.putNextEntry(new ZipEntry("model/version"));
            out.write("3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return p;
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** Appends name -> _rebuild_tensor_v2(storage key (FloatStorage of numel), offset, size, stride). */
    private static void tensor(PickleBuilder b, String name, String key, long numel, long offset,
                               long[] size, long[] stride) {
        b.str(name).global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel)
                .op('t').op('Q')
                .integer(offset).intTuple(size).intTuple(stride).op(0x89)
                .global("collections", "OrderedDict").op(')').op('R')
                .op('t').op('R');
    }

    private static PickleBuilder stateDict() {
        return new PickleBuilder().proto(2).global("collections", "OrderedDict").op(')').op('R').op('(');
    }

    @Test
    void stridedAndOffsetTensorsBecomeContiguous() throws IOException {
        PickleBuilder b = stateDict();
        tensor(b, "transposed", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3});
        tensor(b, "sliced", "0", 6, 2, new long[] {2}, new long[] {2});
        tensor(b, "broadcast", "0", 6, 5, new long[] {2, 2}, new long[] {0, 0});
        tensor(b, "scalar", "0", 6, 4, new long[] {}, new long[] {});
        tensor(b, "empty", "0", 6, 0, new long[] {0, 3}, new long[] {3, 1});
        byte[] pickle = b.op('u').stop().bytes();
        Path p = torchZip("strided.pt", pickle, Map.of("0", floats(0, 1, 2, 3, 4, 5)));
        NamedTensors t = TorchFiles.read(p);
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.get("transposed").toFloats());
        assertArrayEquals(new int[] {3, 2}, t.get("transposed").shape());
        assertArrayEquals(new float[] {2, 4}, t.get("sliced").toFloats());
        assertArrayEquals(new float[] {5, 5, 5, 5}, t.get("broadcast").toFloats());
        assertArrayEquals(new float[] {4}, t.get("scalar").toFloats());
        assertEquals(0, t.get("empty").numel());
    }

    @Test
    void windowOutsideTheStorageIsRejected() throws IOException {
        PickleBuilder b = stateDict();
        tensor(b, "too_far", "0", 6, 4, new long[] {2}, new long[] {3});
        Path p = torchZip("far.pt", b.op('u').stop().bytes(), Map.of("0", floats(0, 1, 2, 3, 4, 5)));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertEquals("too_far", e.key());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void storageSizeMustMatchItsEntry() throws IOException {
        PickleBuilder b = stateDict();
        tensor(b, "w", "0", 1000, 0, new long[] {1000}, new long[] {1});
        Path p = torchZip("short.pt", b.op('u').stop().bytes(), Map.of("0", floats(0, 1, 2)));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("4000"), e.getMessage());
    }

    @Test
    void hugeDeclaredStorageIsRejectedBeforeAllocating() throws IOException {
        PickleBuilder b = stateDict();
        tensor(b, "w", "0", 1L << 40, 0, new long[] {1L << 40}, new long[] {1});
        Path p = torchZip("huge.pt", b.op('u').stop().bytes(), Map.of("0", floats(0)));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
    }

    @Test
    void maliciousPickleInsideAZipIsRefused() throws IOException {
        byte[] evil = "cos\nsystem\n(S'echo pwned'\ntR.".getBytes(StandardCharsets.US_ASCII);
        Path p = torchZip("evil.pt", evil, Map.of());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("'os.system'"),
                e.getMessage());
        // a pickled whole model names its class: refused the same way, with advice
        PickleBuilder b = new PickleBuilder().proto(2).global("torchvision.models.resnet", "ResNet")
                .op(')').op(0x81).stop();
        Path q = torchZip("model.pt", b.bytes(), Map.of());
        WeightFormatException e2 = assertThrows(WeightFormatException.class, () -> TorchFiles.read(q));
        assertTrue(e2.getMessage().contains("torchvision.models.resnet.ResNet")
                && e2.getMessage().contains("state_dict"), e2.getMessage());
    }

    @Test
    void maliciousLegacyFileIsRefused() throws IOException {
        Path p = tmp.resolve("evil_legacy.pth");
        Files.write(p, new PickleBuilder().proto(2).global("posix", "system").str("echo pwned").op(0x85)
                .op('R').stop().bytes());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().contains("'posix.system'"), e.getMessage());
    }

    @Test
    void zipWithoutDataPklIsNotTorch() throws IOException {
        Path p = tmp.resolve("other.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(p))) {
            out.putNextEntry(new ZipEntry("readme.txt"));
            out.write(1);
        }
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().contains("data.pkl"), e.getMessage());
    }

    @Test
    void legacyStorageCountIsCheckedAgainstTheFile() throws IOException {
        Path original = SharedData.require("oracle/cases/pth/bottleneck_legacy.pth");
        byte[] bytes = Files.readAllBytes(original);
        int at = storageSectionStart(bytes); // its first word is the first storage's element count
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(at, Long.MAX_VALUE / 2);
        Path p = tmp.resolve("count.pth");
        Files.write(p, bytes);
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p));
        assertTrue(e.getMessage().contains("elements"), e.getMessage());
    }

    @Test
    void randomCorruptionOfARealPickleNeverEscapesAsAnotherException() throws IOException {
        Path original = SharedData.require("oracle/cases/pth/bottleneck_zip.pth");
        byte[] pickle;
        try (ZipFile z = new ZipFile(original.toFile())) {
            pickle = z.getInputStream(z.getEntry("bottleneck_zip/data.pkl")).readAllBytes();
        }
        Random random = new Random(42);
        for (int trial = 0; trial < 3000; trial++) {
            byte[] mutated = pickle.clone();
            for (int k = 0; k <= trial % 3; k++) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            try {
                Object root = new Unpickler(Path.of("fuzz.pkl"), ByteBuffer.wrap(mutated), new TorchGlobals()).load();
                StateDicts.tensors(root);
            } catch (WeightFormatException e) {
                assertTrue(e.getMessage().startsWith("fuzz.pkl: "), e.getMessage());
            } catch (dev.kiln.io.pickle.PickleException e) {
                // StateDicts' own verdict on a structurally valid pickle: fine
            }
        }
    }

    /** Where the storage section of a legacy file starts: after its five pickles. */
    private static int storageSectionStart(byte[] file) throws WeightFormatException {
        ByteBuffer in = ByteBuffer.wrap(file);
        for (int i = 0; i < 5; i++) {
            new Unpickler(Path.of("x"), in, i == 3 ? new TorchGlobals() : PickleHooks.PLAIN_DATA).load();
        }
        return in.position();
    }
}
