package dev.kiln.io.maps;

/**
 * Translates the tensor names of one family of weight files (torchvision state_dicts, Keras HDF5 files, a folder
 * of .npy files) into Kiln's parameter paths, which follow torchvision's state_dict keys.
 *
 * <p>Every file key falls in one of three groups: mapped ({@link #target} returns where it goes), ignored on
 * purpose ({@link #ignores}: bookkeeping such as {@code num_batches_tracked} that Kiln does not keep), or unknown
 * ({@link #target} returns null), which the {@link WeightLoader} reports as unexpected.
 */
public interface NameMap {
    /** Where the file tensor {@code key} goes, or null when this map does not know the key. */
    Target target(String key);

    /** True for keys the file may carry but Kiln deliberately does not load. */
    default boolean ignores(String key) {
        return false;
    }

    /** True when a Kiln path belongs to the classifier top (skipped when loading without the top). */
    boolean isTop(String path);

    /** A short name for error messages, such as "torchvision state_dict". */
    String description();
}
