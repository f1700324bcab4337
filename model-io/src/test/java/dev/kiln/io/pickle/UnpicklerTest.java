package dev.kiln.io.pickle;

import dev.kiln.io.WeightFormatException;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnpicklerTest {
    private static final Path FILE = Path.of("test.pkl");

    private static Object load(byte[] bytes) throws WeightFormatException {
        return new Unpickler(FILE, ByteBuffer.wrap(bytes), PickleHooks.PLAIN_DATA).load();
    }

    private static String refusal(byte[] bytes) {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> load(bytes));
        assertTrue(e.getMessage().startsWith("test.pkl: "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsPlainData() throws Exception {
        byte[] p = new PickleBuilder().proto(2).op('}').op('q').op(0).op('(')
                .str("a").integer(300).str("b").op(0x89)
                .str("c").op(']').op('(').integer(-5).op('N').op('G')
                .raw(ByteBuffer.allocate(8).putDouble(1.5).array()).op('e')
                .str("d").integer(1).integer(2).op(0x86)
                .str("e").op('h').op(0)
                .op('u').stop().bytes();
        Map<?, ?> m = (Map<?, ?>) load(p);
        assertEquals(300L, m.get("a"));
        assertEquals(Boolean.FALSE, m.get("b"));
        List<?> c = (List<?>) m.get("c");
        assertEquals(-5L, c.get(0));
        assertNull(c.get(1));
        assertEquals(1.5, c.get(2));
        assertEquals(List.of(1L, 2L), ((PyTuple) m.get("d")).items());
        assertTrue(m.get("e") == m, "BINGET returns the memoized object itself");
    }

    @Test
    void readsTorchMagicNumberAsBigInteger() throws Exception {
        byte[] le = new BigInteger("1950a86a20f9469cfc6c", 16).toByteArray();
        byte[] rev = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            rev[i] = le[le.length - 1 - i];
        }
        byte[] p = new PickleBuilder().proto(2).op(0x8a).op(rev.length).raw(rev).stop().bytes();
        assertEquals(new BigInteger("1950a86a20f9469cfc6c", 16), load(p));
    }

    @Test
    void refusesOsSystemWithoutRunningIt() throws Exception {
        Path marker = Files.createTempFile("kiln-pwned", ".txt");
        Files.delete(marker);
        // protocol 0, the classic exploit: os.system("touch <marker>")
        byte[] p = ("cos\nsystem\n(S'touch " + marker + "'\ntR.").getBytes(StandardCharsets.US_ASCII);
        String msg = refusal(p);
        assertTrue(msg.contains("os.system"), msg);
        assertTrue(msg.contains("nothing was executed"), msg);
        assertFalse(Files.exists(marker), "the command must not have run");
    }

    @Test
    void refusesEveryOtherGlobalByName() {
        for (String[] g : new String[][] {{"builtins", "eval"}, {"posix", "system"}, {"subprocess", "Popen"},
                {"torch", "load"}, {"collections", "OrderedDict"}}) {
            byte[] viaGlobal = new PickleBuilder().proto(2).global(g[0], g[1]).op(')').op('R').stop().bytes();
            assertTrue(refusal(viaGlobal).contains(g[0] + "." + g[1]));
            byte[] viaStack = new PickleBuilder().proto(4).op(0x8c).op(g[0].length()).ascii(g[0])
                    .op(0x8c).op(g[1].length()).ascii(g[1]).op(0x93).op(')').op('R').stop().bytes();
            assertTrue(refusal(viaStack).contains(g[0] + "." + g[1]));
        }
    }

    @Test
    void refusesUnknownOpcodes() {
        // INST ('i') and OBJ ('o') import and call; NEWOBJ (0x81) instantiates: none are implemented.
        for (int op : new int[] {'i', 'o', 0x81, 'S', 'I', 0xff}) {
            String msg = refusal(new PickleBuilder().proto(2).op(op).stop().bytes());
            assertTrue(msg.contains("opcode"), msg);
        }
    }

    @Test
    void hugeDeclaredLengthsFailWithoutAllocating() {
        String m1 = refusal(new PickleBuilder().proto(2).op('X').u32(-1).stop().bytes());
        assertTrue(m1.contains("4294967295"), m1);
        refusal(new PickleBuilder().proto(4).op(0x8d).u64(1L << 62).stop().bytes());
        refusal(new PickleBuilder().proto(4).op(0x8e).u64(-1L).stop().bytes());
        refusal(new PickleBuilder().proto(4).op(0x95).u64(Long.MAX_VALUE).stop().bytes());
        refusal(new PickleBuilder().proto(2).op(0x8b).u32(Integer.MAX_VALUE).stop().bytes());
    }

    @Test
    void corruptedStructureIsReported() {
        assertTrue(refusal(new PickleBuilder().proto(2).op('h').op(7).stop().bytes()).contains("memo"));
        assertTrue(refusal(new PickleBuilder().proto(2).op('t').stop().bytes()).contains("MARK"));
        assertTrue(refusal(new PickleBuilder().proto(2).op('s').stop().bytes()).contains("underflow"));
        assertTrue(refusal(new PickleBuilder().proto(2).integer(1).integer(2).stop().bytes()).contains("STOP"));
        assertTrue(refusal(new PickleBuilder().proto(2).integer(1).integer(2).op('s').stop().bytes())
                .contains("underflow"));
        assertTrue(refusal(new PickleBuilder().proto(2).op('}').op(']').integer(1).op('s').stop().bytes())
                .contains("unhashable"));
        assertTrue(refusal(new PickleBuilder().proto(9).stop().bytes()).contains("protocol"));
        assertTrue(refusal(new byte[0]).contains("ends early"));
    }

    @Test
    void deeplyNestedTuplesAreRefusedNotOverflowingTheStack() {
        PickleBuilder b = new PickleBuilder().proto(2).op(')');
        for (int i = 0; i < 100_000; i++) {
            b.op(0x85);
        }
        assertTrue(refusal(b.stop().bytes()).contains("nested"));
    }

    @Test
    void deeplyNestedListsAreHarmless() throws Exception {
        PickleBuilder b = new PickleBuilder().proto(2);
        int depth = 100_000;
        for (int i = 0; i < depth; i++) {
            b.op(']');
        }
        for (int i = 0; i < depth - 1; i++) {
            b.op('a');
        }
        assertTrue(load(b.stop().bytes()) instanceof List<?>);
    }

    @Test
    void everyTruncationOfAValidPickleFailsCleanly() {
        byte[] p = new PickleBuilder().proto(2).op('}').op('(').str("weight").intTuple(1, 70000, 1 << 20)
                .str("flag").op(0x88).op('u').stop().bytes();
        for (int cut = 0; cut < p.length; cut++) {
            byte[] prefix = java.util.Arrays.copyOf(p, cut);
            assertThrows(WeightFormatException.class, () -> load(prefix), "cut at " + cut);
        }
    }

    @Test
    void bytesAndLatin1Strings() throws Exception {
        byte[] p = new PickleBuilder().proto(3).op('C').op(3).raw((byte) 1, (byte) 2, (byte) 3)
                .op('U').op(2).raw((byte) 'h', (byte) 0xe9).op(0x86).stop().bytes();
        PyTuple t = (PyTuple) load(p);
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) t.get(0));
        assertEquals("h\u00e9", t.get(1));
    }
}
