package dev.kiln.bench;

import dev.kiln.backend.Backend;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Mode;
import dev.kiln.optim.Adam;

/**
 * A full training step of ResNet50 with a 1000-class top: zero the gradients, forward in TRAIN mode (batch
 * statistics), softmax cross-entropy, backward, Adam (lr 1e-3). The PyTorch script's {@code train_step_fn}.
 */
final class TrainWorkload extends TrainingStepWorkload {

    TrainWorkload(Backend backend, int batch) {
        this(new ResNet50(ResNetVariant.TORCHVISION_V1_5, true, 1000), backend, batch);
    }

    private TrainWorkload(ResNet50 model, Backend backend, int batch) {
        super(model, new Adam(model, 1e-3), Mode.TRAIN, Inputs.images(backend, batch, 0),
                Inputs.labels(backend, batch, 1000, 1), batch * new ResNetFlops().training(1000));
    }
}
