package dev.kiln.io.model;

import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ImageNetClassesTest {
    /**
     * The resource is torchvision's list. The shared file (pytorch/hub's imagenet_classes.txt) is the same list
     * except where torchvision gives two WordNet homonyms distinct names; everything else must be equal.
     */
    @Test
    void matchesTheSharedLabelFileExceptTorchvisionsDisambiguations() throws Exception {
        Path shared = SharedData.require("data/imagenet-samples/labels/imagenet_classes.txt");
        List<String> hub = Files.readAllLines(shared);
        List<String> ours = ImageNetClasses.names();
        assertEquals(1000, hub.size());
        Map<Integer, String[]> renamed = Map.of(134, new String[] {"crane", "crane bird"},
                639, new String[] {"maillot", "maillot tank suit"});
        for (int i = 0; i < 1000; i++) {
            String[] r = renamed.get(i);
            assertEquals(r == null ? hub.get(i) : r[0], hub.get(i), "shared file, class " + i);
            assertEquals(r == null ? hub.get(i) : r[1], ours.get(i), "resource, class " + i);
        }
        assertEquals(1000, new HashSet<>(ours).size(), "every class has its own name");
    }
}
