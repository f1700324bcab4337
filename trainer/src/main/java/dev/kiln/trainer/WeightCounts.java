package dev.kiln.trainer;

import dev.kiln.nn.Layer;

/** Parameter counts as Keras's summary gives them. */
final class WeightCounts {
    private WeightCounts() {
    }

    /** Weights an optimizer may change now. */
    static long trainable(Layer model) {
        return Layer.count(model.trainableWeights());
    }

    /** Frozen weights and statistics. */
    static long frozen(Layer model) {
        return Layer.count(model.nonTrainableWeights());
    }
}
