package dev.kiln.io.pickle;

/**
 * The only ways a pickle can reach beyond plain data. The {@link Unpickler} never imports or runs
 * anything itself; a format (PyTorch, say) decides here what the few names it trusts stand for, and
 * refuses everything else by throwing.
 */
public interface PickleHooks {
    /** The object standing for {@code module.name} (GLOBAL / STACK_GLOBAL); throw to refuse it. */
    Object global(String module, String name) throws PickleException;

    /** REDUCE: apply a callable obtained from {@link #global} to its arguments. */
    Object reduce(Object callable, PyTuple args) throws PickleException;

    /** BUILD: set the state of an object; returns the object that replaces it on the stack. */
    Object build(Object target, Object state) throws PickleException;

    /** BINPERSID: an object stored outside the pickle, such as a tensor storage. */
    Object persistentLoad(Object pid) throws PickleException;

    /** Hooks that refuse every global and persistent id: plain data only. */
    PickleHooks PLAIN_DATA = new PickleHooks() {
        @Override
        public Object global(String module, String name) throws PickleException {
            throw new PickleException("refused global '" + module + "." + name
                    + "': this pickle may hold plain data only; nothing was executed");
        }

        @Override
        public Object reduce(Object callable, PyTuple args) throws PickleException {
            throw new PickleException("REDUCE is not allowed in plain data");
        }

        @Override
        public Object build(Object target, Object state) throws PickleException {
            throw new PickleException("BUILD is not allowed in plain data");
        }

        @Override
        public Object persistentLoad(Object pid) throws PickleException {
            throw new PickleException("persistent ids are not allowed in plain data");
        }
    };
}
