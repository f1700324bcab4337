package dev.kiln.io.maps;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keras's ResNet50 ({@code keras.applications.ResNet50}, v1) weight names onto Kiln's torchvision-style paths.
 *
 * <pre>
 *   conv1_conv/kernel:0              conv1.weight           (HWIO → OIHW)
 *   conv1_bn/gamma:0                 bn1.weight             (beta → bias, moving_mean → running_mean,
 *                                                             moving_variance → running_var)
 *   conv2_block1_1_conv/bias:0       layer1.0.conv1.bias    (conv2..conv5 → layer1..layer4, blocks 1-based → 0-based,
 *   conv3_block4_3_bn/gamma:0        layer2.3.bn3.weight     _1/_2/_3 → conv1/conv2/conv3 and bn1/bn2/bn3)
 *   conv4_block1_0_conv/kernel:0     layer3.0.downsample.0.weight   (_0 is the projection shortcut)
 *   conv4_block1_0_bn/beta:0         layer3.0.downsample.1.bias
 *   predictions/kernel:0             fc.weight              ((in, out) → (out, in))
 * </pre>
 */
public final class KerasResNet50Names implements NameMap {
    private static final Pattern WEIGHT = Pattern.compile("(?<layer>[A-Za-z0-9_]+)/(?<weight>[A-Za-z_]+)(:\\d+)?");
    private static final Pattern BLOCK_LAYER = Pattern.compile("conv(?<stage>[2-5])_block(?<block>\\d+)_(?<unit>[0-3])_(?<kind>conv|bn)");
    private static final Map<String, String> BN_WEIGHTS = Map.of(
            "gamma", "weight", "beta", "bias", "moving_mean", "running_mean", "moving_variance", "running_var");

    @Override
    public Target target(String key) {
        Matcher m = WEIGHT.matcher(key);
        if (!m.matches()) return null;
        String layer = m.group("layer");
        String weight = m.group("weight");
        if (layer.equals("predictions")) return dense("fc", weight);
        if (layer.equals("conv1_conv")) return conv("conv1", weight);
        if (layer.equals("conv1_bn")) return batchNorm("bn1", weight);
        Matcher b = BLOCK_LAYER.matcher(layer);
        if (!b.matches()) return null;
        int block = Integer.parseInt(b.group("block"));
        if (block < 1) return null;
        String prefix = "layer" + (Integer.parseInt(b.group("stage")) - 1) + "." + (block - 1) + ".";
        int unit = Integer.parseInt(b.group("unit"));
        boolean isConv = b.group("kind").equals("conv");
        if (unit == 0) {
            return isConv ? conv(prefix + "downsample.0", weight) : batchNorm(prefix + "downsample.1", weight);
        }
        return isConv ? conv(prefix + "conv" + unit, weight) : batchNorm(prefix + "bn" + unit, weight);
    }

    private static Target conv(String layer, String weight) {
        return switch (weight) {
            case "kernel" -> new Target(layer + ".weight", Layout.CONV_HWIO_TO_OIHW);
            case "bias" -> Target.asIs(layer + ".bias");
            default -> null;
        };
    }

    private static Target dense(String layer, String weight) {
        return switch (weight) {
            case "kernel" -> new Target(layer + ".weight", Layout.DENSE_IN_OUT_TO_OUT_IN);
            case "bias" -> Target.asIs(layer + ".bias");
            default -> null;
        };
    }

    private static Target batchNorm(String layer, String weight) {
        String name = BN_WEIGHTS.get(weight);
        return name == null ? null : Target.asIs(layer + "." + name);
    }

    @Override
    public boolean isTop(String path) {
        return path.startsWith("fc.");
    }

    @Override
    public String description() {
        return "Keras ResNet50 weights";
    }
}
