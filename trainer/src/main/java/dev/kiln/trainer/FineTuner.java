package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.nn.Initializers;
import dev.kiln.nn.Layer;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.DType;
import dev.kiln.trainer.data.DatasetSplit;
import dev.kiln.trainer.data.ImageFolder;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.data.SkippedFiles;
import dev.kiln.trainer.data.TutorialDataset;
import dev.kiln.trainer.model.Backbones;
import dev.kiln.trainer.model.FineTuneModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Keras fine-tuning recipe end to end:
 * <ol>
 *   <li>phase 1: backbone frozen (its BatchNorms in inference mode), the new head trained with Adam at
 *       {@code lr}, on cached backbone features when that is valid;</li>
 *   <li>phase 2: the backbone unfrozen from {@code unfreezeFrom} on, the same Adam (its state kept) at
 *       {@code fineTuneLr};</li>
 * </ol>
 * with validation after every epoch, the best model, a resumable checkpoint, the history and the plots written
 * to {@code out} after every epoch.
 */
public final class FineTuner {
    public static final String MODEL_FILE = "model.safetensors";

    private final FineTuneOptions opts;
    private final Reporter reporter;

    public FineTuner(FineTuneOptions opts, Reporter reporter) {
        this.opts = opts;
        this.reporter = reporter;
    }

    /** Everything one run holds while it goes. */
    private final class Run {
        final Backend backend;
        final DatasetSplit data;
        final FineTuneModel model;
        final Adam adam;
        final EpochRunner runner;
        final ExecutorService pool;
        final SkippedFiles skipped = new SkippedFiles(reporter);
        final Checkpoint.RunIdentity identity;
        History history = new History();
        ConfusionMatrix lastConfusion;
        double cacheSecondsSaved;

        Run(Backend backend, DatasetSplit data, FineTuneModel model, ExecutorService pool) {
            this.backend = backend;
            this.data = data;
            this.model = model;
            this.adam = new Adam(model.network(), opts.lr);
            this.runner = new EpochRunner(backend, reporter);
            this.pool = pool;
            this.identity = Checkpoint.RunIdentity.of(model, opts.seed);
        }

        int totalEpochs() {
            return opts.epochs + opts.fineTuneEpochs;
        }
    }

    /** The default --data: the PyTorch tutorial's ants and bees, downloaded into the cache the first time. */
    private Path tutorialDataset() {
        try {
            Path folder = TutorialDataset.fromEnvironment().folder();
            reporter.info("data: no --data given; using the PyTorch tutorial's ants-vs-bees photos in " + folder);
            return folder;
        } catch (IOException e) {
            throw new UserInputException("no --data given, and the default dataset could not be fetched: " + e.getMessage());
        }
    }

    public FineTuneResult run() throws IOException {
        long started = System.nanoTime();
        if (opts.data == null) opts.data = tutorialDataset();
        opts.validate();
        Backend backend = Devices.select(opts.device);
        DatasetSplit data = ImageFolder.scan(opts.data, opts.valSplit, opts.seed, opts.limitPerClass);
        if (data.train().isEmpty() || data.val().isEmpty()) {
            throw new UserInputException("--data " + opts.data + ": need images for training and for validation, found "
                    + data.train().size() + " and " + data.val().size());
        }
        reporter.info("data: " + data.description() + "; classes " + data.classes() + "; train "
                + Arrays.toString(DatasetSplit.countPerClass(data.train(), data.classCount())) + ", val "
                + Arrays.toString(DatasetSplit.countPerClass(data.val(), data.classCount())) + " images per class");

        Initializers.setSeed(opts.seed); // the new head's initial weights come from the seed too
        FineTuneModel model = FineTuneModel.withNewHead(loadBackbone(), opts.head, data.classes());
        model.network().to(backend, DType.F32);
        model.freezeBackbone();
        Files.createDirectories(opts.out);
        if (opts.resume == null && Files.exists(opts.out.resolve(Checkpoint.FILE_NAME))) {
            reporter.warn(opts.out + " holds a checkpoint of an earlier run; starting a new run over it "
                    + "(pass --resume to continue that run instead)");
        }

        ExecutorService pool = Executors.newFixedThreadPool(opts.workers, daemonThreads());
        Run run = new Run(backend, data, model, pool);
        try {
            if (opts.resume != null) resume(run);
            reporter.info("device: " + backend.name() + "; model: " + run.identity.architecture() + " + "
                    + run.identity.head() + " head; backbone frozen: " + String.format(Locale.ROOT,
                    "%,d trainable / %,d frozen weights", WeightCounts.trainable(model.network()),
                    WeightCounts.frozen(model.network())));
            if (run.history.epochsInPhase(2) == 0 && run.history.epochsInPhase(1) < opts.epochs) phase1(run);
            if (run.history.epochsInPhase(2) < opts.fineTuneEpochs) phase2(run);
        } catch (TrainingDivergedException e) {
            Path cp = opts.out.resolve(Checkpoint.FILE_NAME);
            throw new TrainingDivergedException(e.getMessage() + "; stopped. "
                    + (Files.exists(cp) ? "The last good checkpoint is " + cp + " (after epoch " + run.history.size() + ")"
                    : "No checkpoint was written yet"));
        } catch (RuntimeException e) {
            throw OutOfMemoryAdvice.atBatchSize(e, opts.batch, planCommand(model, data.classCount()));
        } finally {
            pool.shutdownNow();
        }

        List<EpochRecord> rs = run.history.records();
        EpochRecord last = rs.get(rs.size() - 1);
        EpochRecord best = rs.stream().max((a, b) -> Double.compare(a.valAccuracy(), b.valAccuracy())).orElseThrow();
        double wall = (System.nanoTime() - started) / 1e9;
        if (run.skipped.count() > 0) {
            reporter.warn(run.skipped.count() + " file(s) were skipped as unreadable images: " + run.skipped.all().keySet());
        }
        reporter.info(String.format(Locale.ROOT, "done in %.1f s: final val_loss %.4f val_accuracy %.4f; best val_accuracy "
                + "%.4f at epoch %d (%s)", wall, last.valLoss(), last.valAccuracy(), best.valAccuracy(), best.epoch(),
                opts.out.resolve(MODEL_FILE)));
        if (run.lastConfusion != null) reporter.info("confusion matrix (val, last epoch):\n" + run.lastConfusion.render());
        return new FineTuneResult(run.history, best.valAccuracy(), best.epoch(), last.valLoss(), last.valAccuracy(),
                run.lastConfusion, run.skipped.count(), run.cacheSecondsSaved, wall, opts.out);
    }

    /** The pretrained backbone without its top, or a fresh one for --weights none. */
    /** The {@code kiln plan} line that sizes this run, for the advice after an out-of-memory failure. */
    private String planCommand(FineTuneModel model, int classes) {
        return "kiln plan --model " + ModelKind.of(model.card()).cliName() + " --head " + opts.head + " --classes "
                + classes + (opts.unfreezeFrom == null ? "" : " --unfreeze-from " + opts.unfreezeFrom)
                + " --batch " + opts.batch;
    }

    private LoadedModel loadBackbone() throws IOException {
        if (opts.weights.equals(Backbones.NONE)) {
            reporter.warn("--weights none: the backbone keeps its random initialization");
        }
        LoadedModel backbone = Backbones.load(opts.weights, opts.model);
        reporter.info(String.format(Locale.ROOT, "weights: %s backbone (%,d values) from %s; preprocessing %s",
                backbone.card().architecture(), Layer.count(backbone.model().allParameters()), opts.weights,
                backbone.card().preprocessing().name()));
        return backbone;
    }

    private void resume(Run run) throws IOException {
        Checkpoint cp = Checkpoint.load(opts.resume);
        if (!cp.identity().equals(run.identity)) {
            throw new UserInputException("cannot resume from " + opts.resume + ": it is a run of " + cp.identity()
                    + ", this one is " + run.identity + " (same --model, --head, classes and --seed needed)");
        }
        cp.restoreModel(run.model);
        cp.restoreOptimizer(run.model, run.adam);
        run.history = cp.history();
        reporter.info("resumed from " + opts.resume + " after epoch " + cp.epochsDone());
    }

    // ---------------------------------------------------------------- phases

    private void phase1(Run run) throws IOException {
        run.adam.setLearningRate(opts.lr);
        int remaining = opts.epochs - run.history.epochsInPhase(1);
        BatchSource train = new ImageBatches(run.model, opts.augment, opts.seed, opts.batch, run.pool, run.skipped);
        BatchSource val = new ImageBatches(run.model, false, opts.seed, opts.batch, run.pool, run.skipped);
        if (useFeatureCache(run)) {
            long t0 = System.nanoTime();
            BatchSource evalImages = val;
            train = FeatureCache.compute(run.model, run.data.train(), evalImages, run.backend, opts.batch, reporter,
                    "caching train features");
            val = FeatureCache.compute(run.model, run.data.val(), evalImages, run.backend, opts.batch, reporter,
                    "caching val features");
            double seconds = (System.nanoTime() - t0) / 1e9;
            // Without the cache, every epoch would decode and run the backbone over both splits again.
            run.cacheSecondsSaved = seconds * (remaining - 1);
            reporter.info(String.format(Locale.ROOT, "feature cache: backbone features of %d images computed once in "
                    + "%.1f s; saves about %.1f s per epoch, %.1f s over %d phase-1 epochs",
                    run.data.train().size() + run.data.val().size(), seconds, seconds, run.cacheSecondsSaved, remaining));
        }
        for (int i = 0; i < remaining; i++) epoch(run, 1, train, val);
    }

    private boolean useFeatureCache(Run run) {
        if (Boolean.FALSE.equals(opts.cacheFeatures)) return false;
        if (opts.augment) return false; // validated: an explicit --cache-features with --augment was refused
        long bytes = FeatureCache.bytesFor(run.model, run.data.train().size() + run.data.val().size());
        long budget = Runtime.getRuntime().maxMemory() / 2;
        if (bytes > budget) {
            String why = String.format(Locale.ROOT, "the features need %.1f GiB, more than half the Java heap (%.1f GiB)",
                    bytes / 1073741824.0, Runtime.getRuntime().maxMemory() / 1073741824.0);
            if (Boolean.TRUE.equals(opts.cacheFeatures)) throw new UserInputException("--cache-features: " + why);
            reporter.warn("not caching features: " + why + "; raise -Xmx or pass --limit-per-class");
            return false;
        }
        return true;
    }

    private void phase2(Run run) throws IOException {
        String from = opts.unfreezeFrom != null ? opts.unfreezeFrom : run.model.card().architecture().lastBlock();
        long unfrozen = run.model.unfreezeFrom(from);
        run.adam.setLearningRate(opts.fineTuneLr); // same Adam: the head's moments carry over
        reporter.info(String.format(Locale.ROOT, "fine-tuning: unfroze backbone from '%s' (%,d weights), lr %.1e; "
                + "%,d trainable / %,d frozen", from, unfrozen, opts.fineTuneLr,
                WeightCounts.trainable(run.model.network()), WeightCounts.frozen(run.model.network())));
        BatchSource train = new ImageBatches(run.model, opts.augment, opts.seed, opts.batch, run.pool, run.skipped);
        BatchSource val = new ImageBatches(run.model, false, opts.seed, opts.batch, run.pool, run.skipped);
        int remaining = opts.fineTuneEpochs - run.history.epochsInPhase(2);
        for (int i = 0; i < remaining; i++) epoch(run, 2, train, val);
    }

    private void epoch(Run run, int phase, BatchSource train, BatchSource val) throws IOException {
        int epoch = run.history.size() + 1;
        long t0 = System.nanoTime();
        String name = "epoch " + epoch + "/" + run.totalEpochs();
        List<Sample> order = Seeds.shuffled(run.data.train(), opts.seed, epoch);
        EpochRunner.Result tr = run.runner.train(train, order, epoch, run.model.network(), run.adam, name,
                name + " (phase " + phase + ")");
        ConfusionMatrix confusion = new ConfusionMatrix(run.data.classes());
        EpochRunner.Result va = run.runner.evaluate(val, run.data.val(), "val", confusion);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double bestBefore = run.history.bestValAccuracy();
        EpochRecord r = new EpochRecord(epoch, phase, tr.loss(), tr.accuracy(), va.loss(), va.accuracy(),
                run.adam.learningRate(), seconds);
        run.history.add(r);
        run.lastConfusion = confusion;
        reporter.info(String.format(Locale.ROOT, "%s (phase %d, lr %.0e): loss %.4f accuracy %.4f | val_loss %.4f "
                + "val_accuracy %.4f | %.1f s, %.1f img/s", name, phase, r.lr(), r.loss(), r.accuracy(), r.valLoss(),
                r.valAccuracy(), seconds, (tr.images() + va.images()) / seconds));
        if (va.accuracy() > bestBefore) {
            KilnModelFile.save(opts.out.resolve(MODEL_FILE), run.model.network(), run.model.card(), Map.of(
                    "kiln.epoch", Integer.toString(epoch),
                    "kiln.val_accuracy", Double.toString(va.accuracy())));
            reporter.info("  saved " + opts.out.resolve(MODEL_FILE) + " (best val_accuracy so far)");
        }
        Checkpoint.save(opts.out.resolve(Checkpoint.FILE_NAME), run.model, run.adam, run.history, run.identity,
                opts.checkpointHook);
        run.history.writeJson(opts.out.resolve("history.json"));
        run.history.writeCsv(opts.out.resolve("history.csv"));
        Plots.write(run.history, opts.out);
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "kiln-decode-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
