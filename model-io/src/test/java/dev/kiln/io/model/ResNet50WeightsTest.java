package dev.kiln.io.model;

import dev.kiln.autograd.Autograd;
import dev.kiln.io.Closeness;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A torchvision ResNet50 state_dict (random init, seed 0: the same format and keys as resnet50-0676ba61.pth) loads
 * through the torchvision name map and reproduces PyTorch's eval logits. Tolerance: 1e-4 of max|logit|, the
 * oracle's bar for a float32 engine (torch's own float32 result is 4.9e-5 from the float64 reference).
 */
class ResNet50WeightsTest {
    private static final double LOGITS = 1e-4;

    @TempDir
    Path tmp;

    private static float[] evalLogits(LoadedModel loaded, NamedTensors io) {
        TensorData x = io.get("x");
        try (MemoryScope ignored = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            return loaded.model().forward(Tensor.of(x.toFloats(), x.shape()), Mode.EVAL).toFloatArray();
        }
    }

    @Test
    void torchvisionStateDictReproducesTorchLogits() throws Exception {
        Path weights = SharedData.require("oracle/cases/resnet50_seed0.safetensors");
        NamedTensors io = SafeTensors.read(SharedData.require("oracle/cases/resnet50_seed0_io.safetensors"));
        LoadedModel loaded = WeightImport.load(weights, null, null); // the key names say: torchvision resnet50
        assertEquals(ModelCard.torchvisionResNet50(ImageNetClasses.names()), loaded.card());
        assertEquals(ResNetVariant.TORCHVISION_V1_5, ((ResNet50) loaded.model()).variant());
        double err = Closeness.assertClose("eval logits", io.get("logits").toFloats(), evalLogits(loaded, io), LOGITS);
        System.out.printf("resnet50_seed0 via torchvision map: eval logits relative error %.2e%n", err);
    }

    /** Needs Debian's python3-torch to write the .pth; skipped without it (CI does not have it). */
    @Test
    void torchSaveFileOfTheSameStateDictGivesTheSameLogits() throws Exception {
        Path weights = SharedData.require("oracle/cases/resnet50_seed0.safetensors");
        NamedTensors io = SafeTensors.read(SharedData.require("oracle/cases/resnet50_seed0_io.safetensors"));
        Path pth = tmp.resolve("resnet50_seed0.pth");
        Assumptions.assumeTrue(pythonHasTorch(), "skipped: /usr/bin/python3 cannot import torch"
                + " (apt-get install -y python3-torch to run this test)");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", SAVE_AS_PTH, weights.toString(), pth.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, "python failed: " + output);
        LoadedModel loaded = WeightImport.load(pth, null, null);
        double err = Closeness.assertClose("eval logits from .pth", io.get("logits").toFloats(), evalLogits(loaded, io), LOGITS);
        System.out.printf("resnet50_seed0 via torch.save .pth: eval logits relative error %.2e%n", err);
    }

    /** Reads the safetensors file with plain Python (no safetensors package) and writes it with torch.save. */
    private static final String SAVE_AS_PTH = String.join("\n",
            "import json, struct, sys, collections, torch",
            "src, dst = sys.argv[1], sys.argv[2]",
            "raw = open(src, 'rb').read()",
            "n = struct.unpack('<Q', raw[:8])[0]",
            "header = json.loads(raw[8:8 + n])",
            "types = {'F32': torch.float32, 'I64': torch.int64}",
            "sd = collections.OrderedDict()",
            "for k, v in header.items():",
            "    if k == '__metadata__': continue",
            "    b, e = v['data_offsets']",
            "    t = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=types[v['dtype']])",
            "    sd[k] = t.reshape(v['shape']).clone()",
            "torch.save(sd, dst)");

    private static boolean pythonHasTorch() {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
