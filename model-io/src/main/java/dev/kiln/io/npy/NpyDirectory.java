package dev.kiln.io.npy;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** A folder of .npy files, one tensor each, named by file name without ".npy". Other files are ignored. */
public final class NpyDirectory {
    private static final String SUFFIX = ".npy";

    private NpyDirectory() {
    }

    /** Tensors in natural name order (conv2 before conv10), so that layers come out in sequence. */
    public static NamedTensors read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new WeightFormatException(dir, "not a directory");
        }
        List<Path> files = npyFiles(dir);
        if (files.isEmpty()) {
            throw new WeightFormatException(dir, "directory holds no .npy files");
        }
        NamedTensors out = new NamedTensors();
        for (Path f : files) {
            out.put(nameOf(f), Npy.read(f));
        }
        return out;
    }

    /** True when the folder holds at least one .npy file. */
    public static boolean holdsNpyFiles(Path dir) throws IOException {
        return Files.isDirectory(dir) && !npyFiles(dir).isEmpty();
    }

    private static List<Path> npyFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(NpyDirectory::nameOf, NaturalOrder.INSTANCE))
                    .toList();
        }
    }

    private static String nameOf(Path f) {
        String n = f.getFileName().toString();
        return n.substring(0, n.length() - SUFFIX.length());
    }
}
