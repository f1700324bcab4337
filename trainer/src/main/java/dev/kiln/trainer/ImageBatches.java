package dev.kiln.trainer;

import dev.kiln.nn.Mode;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.Batch;
import dev.kiln.trainer.data.BatchLoader;
import dev.kiln.trainer.data.ImageDecoder;
import dev.kiln.trainer.data.ImagePreprocessing;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.data.SkippedFiles;
import dev.kiln.trainer.model.TransferModel;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;

/** Images decoded on the pool (evaluation transform, or augmentation when training with --augment). */
final class ImageBatches implements BatchSource {
    private static final int PREFETCH_BATCHES = 3;

    private final TransferModel model;
    private final ImagePreprocessing prep;
    private final boolean augment;
    private final long seed;
    private final int batchSize;
    private final ExecutorService pool;
    private final SkippedFiles skipped;

    ImageBatches(TransferModel model, ImagePreprocessing prep, boolean augment, long seed, int batchSize,
                 ExecutorService pool, SkippedFiles skipped) {
        this.model = model;
        this.prep = prep;
        this.augment = augment;
        this.seed = seed;
        this.batchSize = batchSize;
        this.pool = pool;
        this.skipped = skipped;
    }

    @Override
    public Stream open(List<Sample> order, int epoch) {
        BatchLoader.ImageSource source = augment
                ? s -> prep.augment(ImageDecoder.decode(s.file()), new SplittableRandom(Seeds.of(seed, epoch, s.index())))
                : s -> prep.load(s.file());
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
        return new int[]{n, 3, prep.cropSize(), prep.cropSize()};
    }

    @Override
    public Tensor forward(Tensor x, Mode mode) {
        return model.logits(x, mode);
    }
}
