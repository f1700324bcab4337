package dev.kiln.trainer;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.Batch;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.model.FineTuneModel;

import java.util.ArrayList;
import java.util.List;

/**
 * The frozen backbone's features of every image, computed once and kept on the heap, so that phase-1 epochs run
 * only the head. Valid only while the backbone is frozen and images are not augmented: then every epoch would
 * compute exactly these features again.
 */
final class FeatureCache implements BatchSource {
    private final FineTuneModel model;
    private final int batchSize;
    private final int[] featureShape;
    private final float[][] features; // by Sample.index; null for files that failed to decode

    private FeatureCache(FineTuneModel model, int batchSize, int[] featureShape, float[][] features) {
        this.model = model;
        this.batchSize = batchSize;
        this.featureShape = featureShape;
        this.features = features;
    }

    /** Bytes the cache of {@code images} images needs. */
    static long bytesFor(FineTuneModel model, long images) {
        int[] f = model.featureShape();
        return images * f[0] * f[1] * f[2] * Float.BYTES;
    }

    /** Runs the backbone (inference mode, no autograd) over {@code samples}, in order, from {@code images}. */
    static FeatureCache compute(FineTuneModel model, List<Sample> samples, BatchSource images, Backend backend,
                                int batchSize, Reporter reporter, String task) {
        int[] shape = model.featureShape();
        int per = shape[0] * shape[1] * shape[2];
        float[][] features = new float[samples.size()][];
        try (BatchSource.Stream stream = images.open(samples, 0);
             Progress progress = Progress.start(reporter, task, samples.size());
             Autograd.NoGrad noGrad = Autograd.noGrad()) {
            while (stream.hasNext()) {
                Batch b = stream.next();
                if (b.size() > 0) {
                    try (MemoryScope scope = MemoryScope.open()) {
                        Tensor x = Tensor.of(backend, b.images(), images.inputShape(b.size()));
                        float[] out = model.features(x).toFloatArray();
                        for (int i = 0; i < b.size(); i++) {
                            float[] f = new float[per];
                            System.arraycopy(out, i * per, f, 0, per);
                            features[b.samples().get(i).index()] = f;
                        }
                    }
                }
                progress.step(b.samples().size(), "");
            }
        }
        return new FeatureCache(model, batchSize, shape, features);
    }

    @Override
    public Stream open(List<Sample> order, int epoch) {
        List<Sample> present = new ArrayList<>();
        for (Sample s : order) if (features[s.index()] != null) present.add(s);
        return new Stream() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < present.size();
            }

            @Override
            public Batch next() {
                int n = Math.min(batchSize, present.size() - next);
                int per = featureShape[0] * featureShape[1] * featureShape[2];
                float[] data = new float[n * per];
                int[] labels = new int[n];
                List<Sample> samples = present.subList(next, next + n);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(features[samples.get(i).index()], 0, data, i * per, per);
                    labels[i] = samples.get(i).label();
                }
                next += n;
                return new Batch(data, labels, List.copyOf(samples));
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public int[] inputShape(int n) {
        return new int[]{n, featureShape[0], featureShape[1], featureShape[2]};
    }

    @Override
    public Tensor forward(Tensor x, Mode mode) {
        return model.headLogits(x, mode);
    }
}
