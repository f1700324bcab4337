package dev.kiln.io.maps;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SqueezeNet 1.1 weights of the ONNX model zoo, one .npy file per tensor with MXNet-gluon names
 * ({@code squeezenet0_conv7_weight}), onto torchvision's paths. The 26 convolutions are numbered in network order:
 * conv0 is the stem ({@code features.0}), then each fire module has three (squeeze, expand1x1, expand3x3), and
 * conv25 is the classifier ({@code classifier.1}). Layouts are already OIHW. Tensors in torchvision's own naming
 * ({@code features.3.squeeze.weight}, from a torchvision .pth) pass through unchanged.
 */
public final class SqueezeNetNpyNames implements NameMap {
    /** The {@code features} indices of the eight fire modules, in order. */
    private static final int[] FIRE_INDICES = {3, 4, 6, 7, 9, 10, 11, 12};
    private static final String[] FIRE_CONVS = {"squeeze", "expand1x1", "expand3x3"};
    private static final Pattern NPY_NAME = Pattern.compile("squeezenet0_(?<conv>conv\\d+)_(?<weight>weight|bias)");
    private static final Map<String, String> CONV_TO_LAYER = convToLayer();

    private final TorchvisionNames torchvision = TorchvisionNames.squeezenet11();

    /** The conv name ("conv7") to torchvision layer path ("features.6.squeeze"). */
    public static Map<String, String> convToLayer() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("conv0", "features.0");
        int conv = 1;
        for (int fire : FIRE_INDICES) {
            for (String part : FIRE_CONVS) map.put("conv" + conv++, "features." + fire + "." + part);
        }
        map.put("conv" + conv, "classifier.1");
        return Collections.unmodifiableMap(map);
    }

    @Override
    public Target target(String key) {
        Matcher m = NPY_NAME.matcher(key);
        if (!m.matches()) return torchvision.target(key);
        String layer = CONV_TO_LAYER.get(m.group("conv"));
        return layer == null ? null : Target.asIs(layer + "." + m.group("weight"));
    }

    @Override
    public boolean ignores(String key) {
        return torchvision.ignores(key);
    }

    @Override
    public boolean isTop(String path) {
        return path.startsWith("classifier.");
    }

    @Override
    public String description() {
        return "SqueezeNet 1.1 weights (.npy or torchvision)";
    }
}
