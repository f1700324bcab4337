package dev.kiln.bench;

/** One benchmark case, built and ready: {@link #step()} is the timed unit of work (one batch). */
interface Workload extends AutoCloseable {

    /** One inference batch or one training step; every tensor it creates is freed before it returns. */
    void step();

    /** Floating-point operations of one step (convolutions and dense layers; see {@link ResNetFlops}). */
    double flopsPerStep();

    /** Frees the model, inputs and optimizer state. */
    @Override
    void close();
}
