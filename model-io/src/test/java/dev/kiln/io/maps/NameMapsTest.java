package dev.kiln.io.maps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.nn.Parameter;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NameMapsTest {
    private final KerasResNet50Names keras = new KerasResNet50Names();

    @Test
    void kerasNamesFollowTheIssuesTable() {
        assertEquals(new Target("conv1.weight", Layout.CONV_HWIO_TO_OIHW), keras.target("conv1_conv/kernel:0"));
        assertEquals(Target.asIs("conv1.bias"), keras.target("conv1_conv/bias:0"));
        assertEquals(Target.asIs("bn1.weight"), keras.target("conv1_bn/gamma:0"));
        assertEquals(Target.asIs("bn1.bias"), keras.target("conv1_bn/beta:0"));
        assertEquals(Target.asIs("bn1.running_mean"), keras.target("conv1_bn/moving_mean:0"));
        assertEquals(Target.asIs("bn1.running_var"), keras.target("conv1_bn/moving_variance:0"));
        assertEquals(new Target("layer1.0.conv1.weight", Layout.CONV_HWIO_TO_OIHW), keras.target("conv2_block1_1_conv/kernel:0"));
        assertEquals(Target.asIs("layer1.2.bn3.bias"), keras.target("conv2_block3_3_bn/beta:0"));
        assertEquals(Target.asIs("layer2.3.conv2.bias"), keras.target("conv3_block4_2_conv/bias:0"));
        assertEquals(new Target("layer3.0.downsample.0.weight", Layout.CONV_HWIO_TO_OIHW), keras.target("conv4_block1_0_conv/kernel:0"));
        assertEquals(Target.asIs("layer4.0.downsample.1.running_var"), keras.target("conv5_block1_0_bn/moving_variance:0"));
        assertEquals(new Target("fc.weight", Layout.DENSE_IN_OUT_TO_OUT_IN), keras.target("predictions/kernel:0"));
        assertEquals(Target.asIs("fc.bias"), keras.target("predictions/bias:0"));
        assertNull(keras.target("conv6_block1_1_conv/kernel:0"));
        assertNull(keras.target("conv2_block0_1_conv/kernel:0"));
        assertNull(keras.target("conv1_bn/weird:0"));
        assertTrue(keras.isTop("fc.weight"));
        assertFalse(keras.isTop("layer4.2.bn3.weight"));
    }

    /** Keras's ResNet50 has convs with bias: 53 convs × 2 + 53 BNs × 4 + dense 2 = 320 tensors, all distinct. */
    @Test
    void kerasNamesCoverEveryParameterOfKerasResNet50() {
        int[] blocks = {3, 4, 6, 3};
        Set<String> targets = new HashSet<>();
        addLayer(targets, "conv1_conv", "conv1_bn");
        for (int stage = 0; stage < 4; stage++) {
            for (int b = 1; b <= blocks[stage]; b++) {
                String block = "conv" + (stage + 2) + "_block" + b;
                for (int unit = b == 1 ? 0 : 1; unit <= 3; unit++) addLayer(targets, block + "_" + unit + "_conv", block + "_" + unit + "_bn");
            }
        }
        targets.add(keras.target("predictions/kernel:0").path());
        targets.add(keras.target("predictions/bias:0").path());
        Set<String> model = new HashSet<>(new ResNet50(ResNetVariant.KERAS_V1, true, 1000).stateDict().keySet());
        assertEquals(model, targets);
    }

    private void addLayer(Set<String> out, String conv, String bn) {
        for (String w : new String[] {"kernel", "bias"}) out.add(keras.target(conv + "/" + w + ":0").path());
        for (String w : new String[] {"gamma", "beta", "moving_mean", "moving_variance"}) {
            out.add(keras.target(bn + "/" + w + ":0").path());
        }
    }

    @Test
    void torchvisionNamesAreTheIdentityWithoutBookkeeping() {
        TorchvisionNames tv = TorchvisionNames.resnet50();
        assertEquals(Target.asIs("layer4.2.bn3.running_var"), tv.target("layer4.2.bn3.running_var"));
        assertEquals(Target.asIs("fc.weight"), tv.target("module.fc.weight"));
        assertTrue(tv.ignores("layer1.0.bn1.num_batches_tracked"));
        assertTrue(tv.isTop("fc.bias"));
        assertFalse(tv.isTop("layer1.0.conv1.weight"));
    }

    @Test
    void squeezeNetNpyNamesCoverTheModel() {
        SqueezeNetNpyNames names = new SqueezeNetNpyNames();
        Set<String> targets = new HashSet<>();
        for (int conv = 0; conv <= 25; conv++) {
            for (String w : new String[] {"weight", "bias"}) {
                targets.add(names.target("squeezenet0_conv" + conv + "_" + w).path());
            }
        }
        Set<String> model = new HashSet<>();
        for (Parameter p : new SqueezeNet11(true, 1000).allParameters()) model.add(p.path());
        assertEquals(model, targets);
        assertEquals(Target.asIs("features.6.squeeze.weight"), names.target("squeezenet0_conv7_weight"));
        assertEquals(Target.asIs("features.3.squeeze.weight"), names.target("features.3.squeeze.weight"));
        assertNull(names.target("squeezenet0_conv26_weight"));
    }

    /** The oracle case carries the name map its author used (torchvision layer → npy conv); ours must agree. */
    @Test
    void squeezeNetNpyNamesAgreeWithTheOracleCase() throws Exception {
        Path file = SharedData.require("oracle/cases/squeezenet1_1_real.safetensors");
        ObjectMapper json = new ObjectMapper();
        JsonNode params = json.readTree(SafeTensors.read(file).metadata().get("params"));
        JsonNode nameMap = json.readTree(params.get("name_map").asText());
        Map<String, String> ours = SqueezeNetNpyNames.convToLayer();
        assertEquals(ours.size(), nameMap.size());
        nameMap.fields().forEachRemaining(e -> assertEquals(e.getKey(), ours.get(e.getValue().asText()), e.getValue().asText()));
    }
}
