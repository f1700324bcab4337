package dev.kiln.io.maps;

import java.util.List;

/**
 * What a load did. {@code missing} and {@code unexpected} are empty unless partial loading was requested.
 *
 * @param loaded     model paths that received a value
 * @param missing    model paths the file had no value for
 * @param unexpected file keys with no place in the model
 * @param skipped    file keys left out on purpose: the top when loading without it, tensors outside {@code under},
 *                   and bookkeeping such as num_batches_tracked
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> skipped) {
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        skipped = List.copyOf(skipped);
    }
}
