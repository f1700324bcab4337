package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.data.SkippedFiles;
import dev.kiln.trainer.model.FineTuneModel;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Loss, accuracy and confusion matrix of a model over labelled images, in inference mode. */
public final class Evaluator {
    private Evaluator() {
    }

    public record Result(double loss, double accuracy, int images, ConfusionMatrix confusion, SkippedFiles skipped) {
    }

    public static Result evaluate(FineTuneModel model, List<Sample> samples, Backend backend, int batch, int workers,
                                  Reporter reporter) {
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "kiln-evaluate");
            t.setDaemon(true);
            return t;
        });
        try {
            SkippedFiles skipped = new SkippedFiles(reporter);
            BatchSource images = new ImageBatches(model, false, 0, batch, pool, skipped);
            ConfusionMatrix confusion = new ConfusionMatrix(model.classes());
            EpochRunner.Result r = new EpochRunner(backend, reporter).evaluate(images, samples, "evaluate", confusion);
            return new Result(r.loss(), r.accuracy(), r.images(), confusion, skipped);
        } finally {
            pool.shutdownNow();
        }
    }
}
