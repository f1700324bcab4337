package dev.kiln.io.pickle;

import dev.kiln.io.WeightFormatException;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted interpreter for Python pickles (protocols 2 to 5), written for weight files from
 * untrusted sources. It knows only the opcodes that plain data and a PyTorch state_dict use; it never
 * imports or calls anything: every GLOBAL, REDUCE, BUILD and persistent id goes to {@link PickleHooks},
 * which refuse what they do not know. The interpreter loop is iterative (no recursion), every length is
 * checked against the bytes that remain before anything is allocated, and a truncated pickle fails
 * with a clear message instead of reading past its end.
 *
 * <p>Python values map to Java as: None to null, bool to Boolean, int to Long (BigInteger when wider
 * than 64 bits), float to Double, str to String, bytes to byte[], tuple to {@link PyTuple}, list to
 * ArrayList, dict to LinkedHashMap.
 */
public final class Unpickler {
    /** Python ints wider than this are not data a weight file needs; refusing them bounds BigInteger work. */
    private static final int MAX_LONG_BYTES = 256;
    /** GLOBAL names are short identifiers. */
    private static final int MAX_GLOBAL_LINE = 256;

    private final Path file;
    private final ByteBuffer in;
    private final PickleHooks hooks;

    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int opcodeStart;

    /**
     * @param file  named in error messages
     * @param in    read from its position; after {@link #load()} the position is just past STOP, which
     *              is where the next pickle of a multi-pickle file (legacy torch.save) begins
     * @param hooks what globals and persistent ids stand for
     */
    public Unpickler(Path file, ByteBuffer in, PickleHooks hooks) {
        this.file = file;
        this.in = in.order(ByteOrder.LITTLE_ENDIAN);
        this.hooks = hooks;
    }

    /** Reads one pickle up to its STOP opcode and returns the value it built. */
    public Object load() throws WeightFormatException {
        stack.clear();
        marks.clear();
        memo.clear();
        try {
            while (true) {
                opcodeStart = in.position();
                int op = u8();
                if (op == '.') { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw new PickleException("STOP with " + stack.size() + " values on the stack");
                    }
                    return stack.get(0);
                }
                step(op);
            }
        } catch (PickleException e) {
            throw new WeightFormatException(file, null, "pickle byte " + opcodeStart + ": " + e.getMessage());
        }
    }

    /** Executes one opcode other than STOP. */
    private void step(int op) throws PickleException {
        switch (op) {
            case 0x80 -> { // PROTO
                int proto = u8();
                if (proto < 2 || proto > 5) {
                    throw new PickleException("unsupported pickle protocol " + proto);
                }
            }
            case 0x95 -> skipFrameHeader(); // FRAME: framing is only a hint for buffered readers
            case '(' -> marks.add(stack.size()); // MARK
            case '0' -> pop(); // POP
            case '1' -> popMark(); // POP_MARK
            case '2' -> push(peek()); // DUP
            case 'N' -> push(null); // NONE
            case 0x88 -> push(Boolean.TRUE); // NEWTRUE
            case 0x89 -> push(Boolean.FALSE); // NEWFALSE
            case 'K' -> push((long) u8()); // BININT1
            case 'M' -> push((long) u16()); // BININT2
            case 'J' -> push((long) s32()); // BININT
            case 0x8a -> push(longValue(u8())); // LONG1
            case 0x8b -> push(longValue(s32())); // LONG4
            case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(u64()))); // BINFLOAT is big-endian
            case 'X' -> push(utf8(u32())); // BINUNICODE
            case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
            case 0x8d -> push(utf8(u64())); // BINUNICODE8
            case 'T' -> push(latin1(u32())); // BINSTRING (Python 2 str)
            case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
            case 'B' -> push(bytes(u32())); // BINBYTES
            case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
            case 0x8e -> push(bytes(u64())); // BINBYTES8
            case ')' -> push(PyTuple.EMPTY); // EMPTY_TUPLE
            case 0x85 -> push(tupleOfLast(1)); // TUPLE1
            case 0x86 -> push(tupleOfLast(2)); // TUPLE2
            case 0x87 -> push(tupleOfLast(3)); // TUPLE3
            case 't' -> push(new PyTuple(popMark())); // TUPLE
            case ']' -> push(new ArrayList<>()); // EMPTY_LIST
            case 'l' -> push(new ArrayList<>(popMark())); // LIST
            case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
            case 'd' -> { // DICT
                Map<Object, Object> d = new LinkedHashMap<>();
                putPairs(d, popMark());
                push(d);
            }
            case 'a' -> { Object v = pop(); list(peek()).add(v); } // APPEND
            case 'e' -> { List<Object> items = popMark(); list(peek()).addAll(items); } // APPENDS
            case 's' -> { // SETITEM
                Object v = pop();
                Object k = pop();
                put(dict(peek()), k, v);
            }
            case 'u' -> { List<Object> items = popMark(); putPairs(dict(peek()), items); } // SETITEMS
            case 'q' -> memo.put((long) u8(), peek()); // BINPUT
            case 'r' -> memo.put(u32(), peek()); // LONG_BINPUT
            case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
            case 'h' -> push(memoGet(u8())); // BINGET
            case 'j' -> push(memoGet(u32())); // LONG_BINGET
            case 'c' -> { // GLOBAL: "module\nname\n"
                String module = line();
                String name = line();
                push(hooks.global(module, name));
            }
            case 0x93 -> { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw new PickleException("STACK_GLOBAL needs two strings");
                }
                push(hooks.global(m, n));
            }
            case 'R' -> { // REDUCE
                Object args = pop();
                Object callable = pop();
                if (!(args instanceof PyTuple t)) {
                    throw new PickleException("REDUCE arguments are " + describe(args) + ", not a tuple");
                }
                push(hooks.reduce(callable, t));
            }
            case 'b' -> { // BUILD
                Object state = pop();
                Object target = pop();
                push(hooks.build(target, state));
            }
            case 'Q' -> push(hooks.persistentLoad(pop())); // BINPERSID
            default -> throw new PickleException(String.format(
                    "unsupported or unsafe pickle opcode 0x%02x (%s)", op, printable(op)));
        }
    }

    // ---------------------------------------------------------------- stack

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() throws PickleException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw new PickleException("stack underflow (corrupted pickle)");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws PickleException {
        if (stack.isEmpty()) {
            throw new PickleException("stack underflow (corrupted pickle)");
        }
        return stack.get(stack.size() - 1);
    }

    /** Removes and returns everything above the topmost MARK. */
    private List<Object> popMark() throws PickleException {
        if (marks.isEmpty()) {
            throw new PickleException("no MARK on the stack (corrupted pickle)");
        }
        int mark = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private PyTuple tupleOfLast(int n) throws PickleException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop();
        }
        return new PyTuple(java.util.Arrays.asList(items));
    }

    private Object memoGet(long key) throws PickleException {
        if (!memo.containsKey(key)) {
            throw new PickleException("memo key " + key + " was never stored (corrupted pickle)");
        }
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) throws PickleException {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw new PickleException("APPEND to " + describe(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o) throws PickleException {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new PickleException("SETITEM on " + describe(o) + ", not a dict");
    }

    private static void putPairs(Map<Object, Object> d, List<Object> items) throws PickleException {
        if (items.size() % 2 != 0) {
            throw new PickleException("odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            put(d, items.get(i), items.get(i + 1));
        }
    }

    private static void put(Map<Object, Object> d, Object key, Object value) throws PickleException {
        boolean hashable = key instanceof PyTuple t ? t.isHashable() : PyTuple.isHashableScalar(key);
        if (!hashable) {
            throw new PickleException("unhashable dict key: " + describe(key));
        }
        d.put(key, value);
    }

    /** A short, non-recursive description of a value for error messages. */
    public static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String s) {
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (o instanceof Long || o instanceof Boolean || o instanceof Double || o instanceof BigInteger) {
            return o.toString();
        }
        if (o instanceof List<?> l) {
            return "a list of " + l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return "a dict of " + m.size();
        }
        if (o instanceof byte[] b) {
            return b.length + " bytes";
        }
        return o instanceof PyTuple ? "a " + o : o.getClass().getSimpleName();
    }

    // ---------------------------------------------------------------- bytes

    private void need(long n) throws PickleException {
        if (n < 0 || n > in.remaining()) {
            throw new PickleException("pickle ends early: needs " + (n < 0 ? Long.toUnsignedString(n) : n)
                    + " more bytes, " + in.remaining() + " left (truncated file?)");
        }
    }

    private int u8() throws PickleException {
        need(1);
        return in.get() & 0xff;
    }

    private int u16() throws PickleException {
        need(2);
        return in.getShort() & 0xffff;
    }

    private int s32() throws PickleException {
        need(4);
        return in.getInt();
    }

    private long u32() throws PickleException {
        return s32() & 0xffffffffL;
    }

    private long u64() throws PickleException {
        need(8);
        return in.getLong();
    }

    private void skipFrameHeader() throws PickleException {
        long frameLength = u64();
        need(frameLength);
    }

    private byte[] bytes(long n) throws PickleException {
        need(n);
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private String utf8(long n) throws PickleException {
        byte[] b = bytes(n);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new PickleException("string is not valid UTF-8");
        }
    }

    private String latin1(long n) throws PickleException {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** Python's two's-complement little-endian long encoding. */
    private Object longValue(long n) throws PickleException {
        if (n < 0 || n > MAX_LONG_BYTES) {
            throw new PickleException("integer of " + n + " bytes is not plausible in a weight file");
        }
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** A newline-terminated ASCII line, as GLOBAL uses. */
    private String line() throws PickleException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (c < 0x20 || c > 0x7e || sb.length() >= MAX_GLOBAL_LINE) {
                throw new PickleException("malformed GLOBAL name");
            }
            sb.append((char) c);
        }
    }

    private static String printable(int op) {
        return op >= 0x20 && op < 0x7f ? "'" + (char) op + "'" : "binary";
    }
}
