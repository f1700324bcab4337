package dev.kiln.io.image;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelCard;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Classifies images with a model and its card: the card says how to preprocess, whether the model outputs logits
 * (softmax is applied here) or probabilities, and what the classes are called.
 */
public final class Predictor {
    private final Layer model;
    private final ModelCard card;
    private final ImagePreprocessor preprocessor;

    public Predictor(Layer model, ModelCard card) {
        if (!card.classifies()) {
            throw new IllegalArgumentException("the model has no classifier (a backbone without top or head); "
                    + "it outputs features, not classes");
        }
        this.model = model;
        this.card = card;
        this.preprocessor = new ImagePreprocessor(card.preprocessing());
    }

    public Predictor(LoadedModel loaded) {
        this(loaded.model(), loaded.card());
    }

    public ModelCard card() {
        return card;
    }

    /** The {@code k} most probable classes of the image in {@code file}, most probable first. */
    public List<ClassScore> predict(Path file, int k) throws IOException {
        return predict(ImageFiles.read(file), k);
    }

    public List<ClassScore> predict(RgbImage image, int k) {
        return predictBatch(List.of(image), k).get(0);
    }

    /** Top-k for each image, in one forward pass. */
    public List<List<ClassScore>> predictBatch(List<RgbImage> images, int k) {
        float[][] probabilities = probabilities(images);
        List<List<ClassScore>> out = new ArrayList<>();
        for (float[] p : probabilities) out.add(topK(p, k));
        return out;
    }

    /** Class probabilities, one row per image. */
    public float[][] probabilities(List<RgbImage> images) {
        int size = preprocessor.size();
        int plane = 3 * size * size;
        float[] batch = new float[images.size() * plane];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(preprocessor.toChw(images.get(i)), 0, batch, i * plane, plane);
        }
        float[] scores;
        try (MemoryScope scope = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            Backend backend = model.backend();
            Tensor x = Tensor.of(backend, batch, images.size(), 3, size, size);
            scores = model.forward(x, Mode.EVAL).toFloatArray();
        }
        float[][] rows = new float[images.size()][];
        int classes = scores.length / images.size();
        for (int i = 0; i < rows.length; i++) {
            float[] row = java.util.Arrays.copyOfRange(scores, i * classes, (i + 1) * classes);
            rows[i] = card.outputsProbabilities() ? row : softmax(row);
        }
        return rows;
    }

    private List<ClassScore> topK(float[] p, int k) {
        return IntStream.range(0, p.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -p[i]).thenComparingInt(i -> i))
                .limit(Math.max(1, k))
                .map(i -> new ClassScore(i, card.label(i), p[i]))
                .toList();
    }

    /** Softmax in double precision, shifted by the maximum so that large logits cannot overflow. */
    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) sum += e[i] = Math.exp(logits[i] - max);
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = (float) (e[i] / sum);
        return out;
    }
}
