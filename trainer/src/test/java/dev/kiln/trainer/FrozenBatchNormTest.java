package dev.kiln.trainer;

import dev.kiln.backend.Backends;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Parameter;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Keras semantics for a frozen backbone with BatchNorm: phase 1 runs the backbone in TRAIN mode (no feature cache)
 * and must leave every backbone weight and every BatchNorm statistic bit-identical. ResNet50 with random weights
 * and random running statistics, written as a torchvision-keyed safetensors file (so the loader is exercised too);
 * 2 images per class, so it takes seconds.
 */
class FrozenBatchNormTest {
    @TempDir
    Path tmp;

    /** On the CPU, and on the CUDA backend's own code (kernels emulated, cuDNN's part done by the CPU backend). */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "cuda-emulated"})
    void phase1InTrainModeLeavesResNetWeightsAndBatchNormStatisticsBitIdentical(String device) throws Exception {
        assumeTrue(Backends.find(device).isPresent(), () -> "skipped: backend " + device + " is unavailable here");
        ResNet50 backbone = new ResNet50(ResNetVariant.TORCHVISION_V1_5, false, 0);
        NamedTensors file = new NamedTensors();
        SplittableRandom rng = new SplittableRandom(11);
        for (Parameter p : backbone.allParameters()) {
            float[] v = p.value().toFloatArray();
            if (p.name().equals("running_mean")) for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian() * 0.1f;
            if (p.name().equals("running_var")) for (int i = 0; i < v.length; i++) v[i] = 0.5f + (float) rng.nextDouble();
            file.put(p.path(), TensorData.ofFloats(p.value().shape().toArray(), v));
        }
        Path weights = tmp.resolve("resnet50-random.safetensors");
        SafeTensors.write(weights, file, Map.of());

        FineTuneOptions o = new FineTuneOptions();
        o.data = SharedData.require("data/hymenoptera");
        o.model = ModelKind.RESNET50;
        o.head = "gap-dense";
        o.weights = weights.toString();
        o.limitPerClass = 2;
        o.batch = 2;
        o.epochs = 1;
        o.fineTuneEpochs = 0;
        o.cacheFeatures = false; // the backbone must really run, in TRAIN mode
        o.device = device;
        o.out = tmp.resolve("run");
        new FineTuner(o, new CollectingReporter()).run();

        NamedTensors cp = SafeTensors.read(o.out.resolve(Checkpoint.FILE_NAME));
        int stats = 0;
        for (String key : file.names()) {
            assertArrayEquals(file.get(key).toBytes(), cp.get("model.backbone." + key).toBytes(), key + " changed in phase 1");
            if (key.endsWith("running_mean") || key.endsWith("running_var")) stats++;
        }
        assertEquals(2 * 53, stats, "every BatchNorm's two statistics were compared");
    }
}
