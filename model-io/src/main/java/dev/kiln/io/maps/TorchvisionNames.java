package dev.kiln.io.maps;

import java.util.List;

/**
 * torchvision state_dict keys. Kiln's paths are torchvision's keys, so the map is the identity, except that
 * BatchNorm's {@code num_batches_tracked} counters are ignored (Kiln uses a fixed momentum and never needs them)
 * and the {@code module.} prefix that {@code nn.DataParallel} adds to every key is removed.
 */
public final class TorchvisionNames implements NameMap {
    private static final String DATA_PARALLEL_PREFIX = "module.";

    private final String description;
    private final List<String> topPrefixes;

    /** @param topPrefixes path prefixes of the classifier top, such as "fc." for ResNet50 */
    public TorchvisionNames(String description, String... topPrefixes) {
        this.description = description;
        this.topPrefixes = List.of(topPrefixes);
    }

    public static TorchvisionNames resnet50() {
        return new TorchvisionNames("torchvision ResNet50 state_dict", "fc.");
    }

    public static TorchvisionNames squeezenet11() {
        return new TorchvisionNames("torchvision SqueezeNet 1.1 state_dict", "classifier.");
    }

    @Override
    public Target target(String key) {
        return Target.asIs(key.startsWith(DATA_PARALLEL_PREFIX) ? key.substring(DATA_PARALLEL_PREFIX.length()) : key);
    }

    @Override
    public boolean ignores(String key) {
        return key.endsWith(".num_batches_tracked");
    }

    @Override
    public boolean isTop(String path) {
        return topPrefixes.stream().anyMatch(path::startsWith);
    }

    @Override
    public String description() {
        return description;
    }
}
