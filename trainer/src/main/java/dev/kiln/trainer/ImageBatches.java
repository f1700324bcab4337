package dev.kiln.trainer;

import dev.kiln.io.image.ImageFiles;
import dev.kiln.io.image.ImagePreprocessor;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.Augmentation;
import dev.kiln.trainer.data.Batch;
import dev.kiln.trainer.data.BatchLoader;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.data.SkippedFiles;
import dev.kiln.trainer.model.FineTuneModel;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;

/**
 * Images decoded on the pool and preprocessed as the model's card says: model-io's evaluation transform, or the
 * training augmentation when {@code augment}.
 */
final class ImageBatches implements BatchSource {
    private static final int PREFETCH_BATCHES = 3;

    private final FineTuneModel model;
    private final ImagePreprocessor preprocessor;
    private final Augmentation augmentation;
    private final long seed;
    private final int batchSize;
    private final ExecutorService pool;
    private final SkippedFiles skipped;

    ImageBatches(FineTuneModel model, boolean augment, long seed, int batchSize, ExecutorService pool,
                 SkippedFiles skipped) {
        this.model = model;
        this.preprocessor = new ImagePreprocessor(model.card().preprocessing());
        this.augmentation = augment ? new Augmentation(preprocessor) : null;
        this.seed = seed;
        this.batchSize = batchSize;
        this.pool = pool;
        this.skipped = skipped;
    }

    @Override
    public Stream open(List<Sample> order, int epoch) {
        BatchLoader.ImageSource source = augmentation != null
                ? s -> augmentation.apply(ImageFiles.read(s.file()), new SplittableRandom(Seeds.of(seed, epoch, s.index())))
                : s -> preprocessor.toChw(ImageFiles.read(s.file()));
        BatchLoader loader = new BatchLoader(order, batchSize, source, pool, PREFETCH_BATCHES, skipped);
        return new Stream() {
            @Override
            public boolean hasNext() {
                return loader.hasNext();
            }

            @Override
            public Batch next() {
                return loader.next();
            }

            @Override
            public void close() {
                loader.close();
            }
        };
    }

    @Override
    public int[] inputShape(int n) {
        return new int[]{n, 3, preprocessor.size(), preprocessor.size()};
    }

    @Override
    public Tensor forward(Tensor x, Mode mode) {
        return model.logits(x, mode);
    }
}
