package dev.kiln.trainer;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.Batch;
import dev.kiln.trainer.data.Sample;

import java.util.List;
import java.util.Locale;

/**
 * One pass over a list of samples: training (forward, cross-entropy, backward, optimizer step per batch) or
 * evaluation (forward only). Each step's tensors live in a {@link MemoryScope} and are freed when it ends.
 */
final class EpochRunner {
    private final Backend backend;
    private final Reporter reporter;

    EpochRunner(Backend backend, Reporter reporter) {
        this.backend = backend;
        this.reporter = reporter;
    }

    /** Mean loss and accuracy over the images that were seen. */
    record Result(double loss, double accuracy, int images) {
    }

    /** Running sums for the progress line and the result. */
    private static final class Totals {
        double lossSum;
        long correct;
        int images;

        void add(double batchLoss, int correctInBatch, int n) {
            lossSum += batchLoss * n;
            correct += correctInBatch;
            images += n;
        }

        Result result() {
            return images == 0 ? new Result(Double.NaN, Double.NaN, 0)
                    : new Result(lossSum / images, (double) correct / images, images);
        }

        String line() {
            return images == 0 ? "" : String.format(Locale.ROOT, "loss %.4f acc %.4f", lossSum / images,
                    (double) correct / images);
        }
    }

    /**
     * Trains {@code model}'s trainable weights on {@code order}.
     *
     * @param where names the epoch in the message when the loss stops being finite
     */
    Result train(BatchSource source, List<Sample> order, int epoch, Layer model, Optimizer<?> optimizer,
                 String task, String where) {
        Totals totals = new Totals();
        int batchIndex = 0;
        try (BatchSource.Stream stream = source.open(order, epoch);
             Progress progress = Progress.start(reporter, task, order.size())) {
            while (stream.hasNext()) {
                Batch b = stream.next();
                batchIndex++;
                if (b.size() > 0) {
                    try (MemoryScope step = MemoryScope.open()) {
                        Tensor x = Tensor.of(backend, b.images(), source.inputShape(b.size()));
                        Tensor y = Tensor.ofLabels(backend, b.labels());
                        Tensor logits = source.forward(x, Mode.TRAIN);
                        Tensor loss = Ops.softmaxCrossEntropy(logits, y);
                        double value = loss.item();
                        if (!Double.isFinite(value)) {
                            throw new TrainingDivergedException("the loss became " + value + " in " + where
                                    + ", batch " + batchIndex + " (files " + b.samples().get(0).file().getFileName()
                                    + " …); lower the learning rate");
                        }
                        model.zeroGrad();
                        Autograd.backward(loss);
                        optimizer.step();
                        totals.add(value, correct(logits, b.labels()), b.size());
                    }
                }
                progress.step(b.samples().size(), totals.line());
            }
        }
        return totals.result();
    }

    /** Loss and accuracy in inference mode; fills {@code confusion} when it is not null. */
    Result evaluate(BatchSource source, List<Sample> samples, String task, ConfusionMatrix confusion) {
        Totals totals = new Totals();
        try (BatchSource.Stream stream = source.open(samples, 0);
             Progress progress = Progress.start(reporter, task, samples.size());
             Autograd.NoGrad noGrad = Autograd.noGrad()) {
            while (stream.hasNext()) {
                Batch b = stream.next();
                if (b.size() > 0) {
                    try (MemoryScope step = MemoryScope.open()) {
                        Tensor x = Tensor.of(backend, b.images(), source.inputShape(b.size()));
                        Tensor y = Tensor.ofLabels(backend, b.labels());
                        Tensor logits = source.forward(x, Mode.EVAL);
                        double value = Ops.softmaxCrossEntropy(logits, y).item();
                        int[] predicted = argmax(logits);
                        int right = 0;
                        for (int i = 0; i < predicted.length; i++) {
                            if (predicted[i] == b.labels()[i]) right++;
                            if (confusion != null) confusion.add(b.labels()[i], predicted[i]);
                        }
                        totals.add(value, right, b.size());
                    }
                }
                progress.step(b.samples().size(), totals.line());
            }
        }
        return totals.result();
    }

    private static int correct(Tensor logits, int[] labels) {
        int[] predicted = argmax(logits);
        int right = 0;
        for (int i = 0; i < labels.length; i++) if (predicted[i] == labels[i]) right++;
        return right;
    }

    /** The predicted class of each row of logits (N, classes). */
    static int[] argmax(Tensor logits) {
        float[] v = logits.toFloatArray();
        int n = logits.dim(0);
        int k = logits.dim(1);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
            out[i] = best;
        }
        return out;
    }
}
