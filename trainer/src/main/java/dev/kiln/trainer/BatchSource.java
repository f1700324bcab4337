package dev.kiln.trainer;

import dev.kiln.nn.Mode;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.Batch;
import dev.kiln.trainer.data.Sample;

import java.util.Iterator;
import java.util.List;

/**
 * The batches of one pass over some samples, and the network that consumes them: decoded images through the
 * whole model ({@link ImageBatches}), or cached backbone features through the head only ({@link FeatureCache}).
 */
interface BatchSource {

    /** Batches in exactly the order of {@code order}; {@code epoch} seeds augmentation. */
    Stream open(List<Sample> order, int epoch);

    /** The input tensor's shape for a batch of {@code n}. */
    int[] inputShape(int n);

    /** Runs the network this source feeds, up to the logits (N, classes): the loss applies the softmax. */
    Tensor forward(Tensor x, Mode mode);

    /** An iterator that may hold threads or queued work. */
    interface Stream extends Iterator<Batch>, AutoCloseable {
        @Override
        void close();
    }
}
