package dev.kiln.io.pickle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An immutable Python tuple. Its hash is computed once at construction (from items whose hashes are
 * themselves cached or flat), and its nesting depth is bounded, so that no operation on a tuple from a
 * hostile file can recurse deeply enough to overflow the Java stack.
 */
public final class PyTuple {
    /** Deeper tuples never occur in a state_dict; refusing them keeps hashing and equality shallow. */
    public static final int MAX_DEPTH = 64;

    /** The empty tuple; tuples are immutable, so one instance serves every EMPTY_TUPLE opcode. */
    public static final PyTuple EMPTY = new PyTuple();

    private final List<Object> items;
    private final int depth;
    private final boolean hashable;
    private final int hash;

    private PyTuple() {
        this.items = List.of();
        this.depth = 1;
        this.hashable = true;
        this.hash = this.items.hashCode();
    }

    PyTuple(List<Object> items) throws PickleException {
        this.items = Collections.unmodifiableList(new ArrayList<>(items));
        int d = 1;
        boolean h = true;
        for (Object o : items) {
            if (o instanceof PyTuple t) {
                d = Math.max(d, t.depth + 1);
                h &= t.hashable;
            } else {
                h &= isHashableScalar(o);
            }
        }
        if (d > MAX_DEPTH) {
            throw new PickleException("tuples nested more than " + MAX_DEPTH + " deep");
        }
        this.depth = d;
        this.hashable = h;
        this.hash = h ? this.items.hashCode() : 0;
    }

    /** Strings, numbers, booleans and None: the Python values that may be dict keys besides tuples. */
    static boolean isHashableScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof java.math.BigInteger
                || o instanceof Double || o instanceof Boolean;
    }

    boolean isHashable() {
        return hashable;
    }

    public int size() {
        return items.size();
    }

    public Object get(int i) {
        return items.get(i);
    }

    /** The items, read-only. */
    public List<Object> items() {
        return items;
    }

    @Override
    public boolean equals(Object o) {
        // Only hashable tuples are compared (as dict keys); depth is bounded, so this recursion is too.
        return o instanceof PyTuple t && t.hash == hash && t.items.size() == items.size()
                && Objects.equals(t.items, items);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "tuple of " + items.size();
    }
}
