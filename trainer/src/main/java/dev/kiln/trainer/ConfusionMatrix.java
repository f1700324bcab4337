package dev.kiln.trainer;

import java.util.List;

/** Counts of (true class, predicted class), with a fixed-width text rendering. */
public final class ConfusionMatrix {
    private final List<String> classes;
    private final long[][] counts;

    public ConfusionMatrix(List<String> classes) {
        this.classes = List.copyOf(classes);
        this.counts = new long[classes.size()][classes.size()];
    }

    public void add(int actual, int predicted) {
        counts[actual][predicted]++;
    }

    public long count(int actual, int predicted) {
        return counts[actual][predicted];
    }

    public long total() {
        long n = 0;
        for (long[] row : counts) for (long c : row) n += c;
        return n;
    }

    /** Rows are the true classes, columns the predictions. */
    public String render() {
        int w = 9;
        for (String c : classes) w = Math.max(w, c.length() + 2);
        StringBuilder sb = new StringBuilder(String.format("%-" + w + "s", "true\\pred"));
        for (String c : classes) sb.append(String.format("%" + w + "s", c));
        sb.append(String.format("%" + w + "s%n", "recall"));
        for (int i = 0; i < classes.size(); i++) {
            sb.append(String.format("%-" + w + "s", classes.get(i)));
            long rowTotal = 0;
            for (int j = 0; j < classes.size(); j++) {
                sb.append(String.format("%" + w + "d", counts[i][j]));
                rowTotal += counts[i][j];
            }
            sb.append(String.format("%" + w + ".3f%n", rowTotal == 0 ? 0.0 : (double) counts[i][i] / rowTotal));
        }
        return sb.toString();
    }
}
