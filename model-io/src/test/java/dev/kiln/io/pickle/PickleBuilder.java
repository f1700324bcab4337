package dev.kiln.io.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes by hand, so that tests can build exactly the (hostile) bytes they need. */
public final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    public PickleBuilder raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public PickleBuilder ascii(String s) {
        return raw(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    public PickleBuilder proto(int p) {
        return op(0x80).op(p);
    }

    public PickleBuilder global(String module, String name) {
        return op('c').ascii(module + "\n" + name + "\n");
    }

    public PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').u32(b.length).raw(b);
    }

    public PickleBuilder integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').op((int) (v & 0xff)).op((int) (v >> 8));
        }
        if (v == (int) v) {
            return op('J').u32((int) v);
        }
        op(0x8a).op(8);
        for (int i = 0; i < 8; i++) {
            op((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    /** A tuple of the given ints, with MARK ... TUPLE. */
    public PickleBuilder intTuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    public PickleBuilder u32(int v) {
        for (int i = 0; i < 4; i++) {
            out.write((v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    public PickleBuilder u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    public PickleBuilder stop() {
        return op('.');
    }

    public byte[] bytes() {
        return out.toByteArray();
    }
}
