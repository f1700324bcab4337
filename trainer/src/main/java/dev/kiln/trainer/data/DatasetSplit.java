package dev.kiln.trainer.data;

import java.util.List;

/** Class names (index = label) and the training and validation samples of one image folder. */
public record DatasetSplit(List<String> classes, List<Sample> train, List<Sample> val, String description) {

    public int classCount() {
        return classes.size();
    }

    /** Images per class in a list of samples, for the summary. */
    public static int[] countPerClass(List<Sample> samples, int classes) {
        int[] counts = new int[classes];
        for (Sample s : samples) counts[s.label()]++;
        return counts;
    }
}
