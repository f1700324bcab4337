package dev.kiln.trainer.data;

import dev.kiln.trainer.UserInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Scans a folder of images laid out one subfolder per class, as Keras's {@code image_dataset_from_directory} and
 * torchvision's {@code ImageFolder} expect. Two layouts:
 * <ul>
 *   <li>{@code DIR/train/CLASS/*} and {@code DIR/val/CLASS/*}: the split is given;</li>
 *   <li>{@code DIR/CLASS/*}: each class is split by {@code valSplit} after a shuffle seeded by {@code seed}.</li>
 * </ul>
 * Class indices follow the sorted class-folder names. Every regular, non-hidden file is a candidate: files that
 * turn out not to be images are skipped later, when decoding, with a warning ({@link SkippedFiles}).
 */
public final class ImageFolder {
    private ImageFolder() {
    }

    /**
     * @param limitPerClass keep at most this many files per class in each split (0 = all), for quick runs
     */
    public static DatasetSplit scan(Path dir, double valSplit, long seed, int limitPerClass) {
        if (!Files.isDirectory(dir)) {
            throw new UserInputException("--data " + dir + ": no such folder");
        }
        Path train = dir.resolve("train");
        Path val = dir.resolve("val");
        if (Files.isDirectory(train) && Files.isDirectory(val)) {
            List<String> classes = classFolders(train);
            List<String> valClasses = classFolders(val);
            if (!valClasses.equals(classes)) {
                throw new UserInputException("--data " + dir + ": class folders differ between train/ " + classes
                        + " and val/ " + valClasses);
            }
            return new DatasetSplit(classes, samples(train, classes, limitPerClass),
                    samples(val, classes, limitPerClass), dir + " (train/ and val/)");
        }
        if (!(valSplit > 0 && valSplit < 1)) {
            throw new UserInputException("--data " + dir + " has no train/ and val/ subfolders, so it is split by "
                    + "--val-split, which must be in (0, 1); got " + valSplit);
        }
        List<String> classes = classFolders(dir);
        List<Sample> trainSamples = new ArrayList<>();
        List<Sample> valSamples = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<Path> files = imageFiles(dir.resolve(classes.get(label)));
            shuffle(files, new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (label + 1))));
            int nVal = (int) Math.round(files.size() * valSplit);
            List<Path> v = limit(files.subList(0, nVal), limitPerClass);
            List<Path> t = limit(files.subList(nVal, files.size()), limitPerClass);
            for (Path p : t) trainSamples.add(new Sample(p, label, trainSamples.size()));
            for (Path p : v) valSamples.add(new Sample(p, label, valSamples.size()));
        }
        return new DatasetSplit(classes, trainSamples, valSamples,
                dir + " (split " + Math.round((1 - valSplit) * 100) + "/" + Math.round(valSplit * 100) + ", seed " + seed + ")");
    }

    /** Every sample of a folder laid out CLASS/*, labelled by {@code classes} (for evaluation). */
    public static List<Sample> samples(Path dir, List<String> classes, int limitPerClass) {
        List<String> present = classFolders(dir);
        for (String c : present) {
            if (!classes.contains(c)) {
                throw new UserInputException(dir + ": class folder '" + c + "' is not one of the model's classes " + classes);
            }
        }
        List<Sample> out = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            Path classDir = dir.resolve(classes.get(label));
            if (!Files.isDirectory(classDir)) continue;
            for (Path p : limit(imageFiles(classDir), limitPerClass)) out.add(new Sample(p, label, out.size()));
        }
        return out;
    }

    /** Sorted names of the non-hidden subfolders; at least two are needed to classify. */
    public static List<String> classFolders(Path dir) {
        List<String> names = new ArrayList<>();
        for (Path p : list(dir)) {
            if (Files.isDirectory(p) && !hidden(p)) names.add(p.getFileName().toString());
        }
        names.sort(null);
        if (names.size() < 2) {
            throw new UserInputException(dir + ": expected one subfolder per class (at least two), found " + names);
        }
        return names;
    }

    private static List<Path> imageFiles(Path classDir) {
        List<Path> files = new ArrayList<>();
        for (Path p : list(classDir)) {
            if (Files.isRegularFile(p) && !hidden(p)) files.add(p);
        }
        files.sort(null);
        return files;
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list folder", e);
        }
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static List<Path> limit(List<Path> files, int limit) {
        return limit > 0 && files.size() > limit ? new ArrayList<>(files.subList(0, limit)) : new ArrayList<>(files);
    }

    private static <T> void shuffle(List<T> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }
}
