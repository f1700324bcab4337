package dev.kiln.bench;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.Tensor;

import java.util.Random;

/** Random inputs with fixed seeds, like the PyTorch script's torch.randn images and torch.randint labels. */
final class Inputs {
    private Inputs() {
    }

    /** (batch, 3, 224, 224) standard-normal images. */
    static Tensor images(Backend backend, int batch, long seed) {
        Random random = new Random(seed);
        float[] data = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
        return Tensor.of(backend, data, batch, 3, 224, 224);
    }

    /** (batch) class indices in [0, classes). */
    static Tensor labels(Backend backend, int batch, int classes, long seed) {
        Random random = new Random(seed);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(classes);
        return Tensor.ofLabels(backend, labels);
    }
}
