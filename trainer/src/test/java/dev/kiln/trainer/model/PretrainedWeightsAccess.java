package dev.kiln.trainer.model;

/** Test access to the package-private name map. */
public final class PretrainedWeightsAccess {
    private PretrainedWeightsAccess() {
    }

    public static String torchvisionKey(String npyName) {
        return PretrainedWeights.squeezeNetNpyKey(npyName);
    }
}
