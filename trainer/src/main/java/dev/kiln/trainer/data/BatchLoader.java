package dev.kiln.trainer.data;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Decodes and preprocesses images on a thread pool ahead of the training step, keeping at most
 * {@code prefetchBatches} batches in flight (a bounded prefetch queue, so memory stays flat). Batches come out in
 * exactly the order of {@code order}, whatever order the threads finish in, and each image's randomness comes
 * from its own seed ({@link ImageSource}), so a run is deterministic for a given seed.
 */
public final class BatchLoader implements Iterator<Batch>, AutoCloseable {

    /** Produces one preprocessed image; must be thread-safe. An IOException skips the sample (a file that is not an image). */
    @FunctionalInterface
    public interface ImageSource {
        float[] load(Sample sample) throws IOException;
    }

    private final List<Sample> order;
    private final int batchSize;
    private final ImageSource source;
    private final ExecutorService pool;
    private final int maxInFlight;
    private final SkippedFiles skipped;
    private final ArrayDeque<Future<float[]>> inFlight = new ArrayDeque<>();
    private int submitted;
    private int consumed;

    public BatchLoader(List<Sample> order, int batchSize, ImageSource source, ExecutorService pool,
                       int prefetchBatches, SkippedFiles skipped) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.order = order;
        this.batchSize = batchSize;
        this.source = source;
        this.pool = pool;
        this.maxInFlight = batchSize * Math.max(1, prefetchBatches);
        this.skipped = skipped;
        fill();
    }

    private void fill() {
        while (submitted < order.size() && inFlight.size() < maxInFlight) {
            Sample s = order.get(submitted++);
            inFlight.add(pool.submit(() -> {
                try {
                    return source.load(s);
                } catch (IOException e) {
                    skipped.record(s.file(), e);
                    return null;
                }
            }));
        }
    }

    @Override
    public boolean hasNext() {
        return consumed < order.size();
    }

    /** The next batch; it may be short, or even empty, when files failed to decode. */
    @Override
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException();
        int take = Math.min(batchSize, order.size() - consumed);
        List<float[]> images = new ArrayList<>(take);
        List<Sample> samples = new ArrayList<>(take);
        for (int i = 0; i < take; i++) {
            Sample s = order.get(consumed++);
            float[] img = await(inFlight.poll(), s);
            if (img != null) {
                images.add(img);
                samples.add(s);
            }
        }
        fill();
        int per = images.isEmpty() ? 0 : images.get(0).length;
        float[] data = new float[images.size() * per];
        int[] labels = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(images.get(i), 0, data, i * per, per);
            labels[i] = samples.get(i).label();
        }
        return new Batch(data, labels, samples);
    }

    private static float[] await(Future<float[]> f, Sample s) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading " + s.file(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("failed to preprocess " + s.file() + ": " + e.getCause(), e.getCause());
        } catch (CancellationException e) {
            throw new IllegalStateException("loading " + s.file() + " was cancelled", e);
        }
    }

    /** Cancels the images still queued (an epoch stopped early). */
    @Override
    public void close() {
        for (Future<float[]> f : inFlight) f.cancel(false);
        inFlight.clear();
    }
}
