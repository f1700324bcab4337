package dev.kiln.io.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The 1000 ImageNet class names in the order of torchvision's (and Keras's) outputs, from the resource
 * {@code imagenet_classes.txt}. The names are torchvision's ({@code torchvision.models._meta._IMAGENET_CATEGORIES}),
 * which give the two classes that share a WordNet name distinct labels: 134 "crane bird" (517 is the machine) and
 * 639 "maillot tank suit" (638 is "maillot").
 */
public final class ImageNetClasses {
    public static final int COUNT = 1000;
    private static final String RESOURCE = "imagenet_classes.txt";
    private static List<String> names;

    private ImageNetClasses() {
    }

    public static synchronized List<String> names() {
        if (names == null) names = read();
        return names;
    }

    private static List<String> read() {
        try (InputStream in = ImageNetClasses.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " missing from the model-io jar");
            List<String> lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
            if (lines.size() != COUNT) {
                throw new IllegalStateException(RESOURCE + " has " + lines.size() + " lines, not " + COUNT);
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
