package dev.kiln.trainer;

import dev.kiln.io.AtomicFiles;
import dev.kiln.io.cli.WeightsOption;
import dev.kiln.io.model.HeadSpec;
import dev.kiln.io.model.ModelKind;
import dev.kiln.trainer.model.Backbones;

import java.nio.file.Path;

/**
 * Everything {@code kiln finetune} can be told, with the recipe's defaults (Keras's transfer-learning guide: Adam
 * 1e-3 with the backbone frozen, then 1e-5 with its last block unfrozen). The CLI fills it; tests set fields.
 */
public final class FineTuneOptions {
    public Path data;
    /** Fraction held out for validation when {@link #data} has no train/ and val/ subfolders. */
    public double valSplit = 0.2;
    /** At most this many images per class and split (0 = all), for quick runs. */
    public int limitPerClass = 0;
    /** The backbone's family; null: told from {@link #weights} (resnet50 for "imagenet" and "none"). */
    public ModelKind model;
    /** A weight file or folder, "imagenet" (the download) or "none" (random initialization). */
    public String weights = WeightsOption.IMAGENET;
    /** "flatten-dense" or "gap-dense" ({@link HeadSpec#TYPES}). */
    public String head = "flatten-dense";
    public int epochs = 5;
    public int fineTuneEpochs = 5;
    public double lr = 1e-3;
    public double fineTuneLr = 1e-5;
    /** Backbone layer path from which phase 2 unfreezes; null means the architecture's last block. */
    public String unfreezeFrom;
    public int batch = 32;
    public long seed = 42;
    public String device = "auto";
    public Path out = Path.of("runs/finetune");
    /** A checkpoint to continue from, or null. */
    public Path resume;
    public boolean augment;
    /** True/false to force; null caches whenever it is valid (frozen backbone, no augmentation). */
    public Boolean cacheFeatures;
    /** Decoding threads. */
    public int workers = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    /** Test hook: runs between writing a checkpoint's temporary file and renaming it. */
    public AtomicFiles.BeforeCommit checkpointHook = AtomicFiles.BeforeCommit.NOTHING;

    /** Fails with a one-line reason on values that cannot work. */
    public void validate() {
        require(data != null, "no --data: point it at a folder with one subfolder per class (or train/ and val/), "
                + "e.g. --data ../shared/data/hymenoptera");
        require(epochs >= 0, "--epochs must be >= 0, got " + epochs);
        require(fineTuneEpochs >= 0, "--fine-tune-epochs must be >= 0, got " + fineTuneEpochs);
        require(epochs + fineTuneEpochs > 0, "nothing to do: --epochs and --fine-tune-epochs are both 0");
        require(batch >= 1, "--batch must be >= 1, got " + batch);
        require(lr > 0 && Double.isFinite(lr), "--lr must be > 0, got " + lr);
        require(fineTuneLr > 0 && Double.isFinite(fineTuneLr), "--fine-tune-lr must be > 0, got " + fineTuneLr);
        require(limitPerClass >= 0, "--limit-per-class must be >= 0, got " + limitPerClass);
        require(workers >= 1, "--workers must be >= 1, got " + workers);
        require(HeadSpec.TYPES.contains(head), "unknown head '" + head + "'; choose one of " + HeadSpec.TYPES);
        Backbones.checkExists(weights);
        if (Boolean.TRUE.equals(cacheFeatures) && augment) {
            throw new UserInputException("--cache-features cannot be combined with --augment: augmented images give "
                    + "new features every epoch");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new UserInputException(message);
    }
}
