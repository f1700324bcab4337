package dev.kiln.trainer.data;

import dev.kiln.trainer.Reporter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Files that could not be decoded: each is warned about once, and all are counted in the summary. */
public final class SkippedFiles {
    private final Map<Path, String> reasons = new ConcurrentHashMap<>();
    private final Reporter reporter;

    public SkippedFiles(Reporter reporter) {
        this.reporter = reporter;
    }

    public void record(Path file, IOException e) {
        if (reasons.putIfAbsent(file, e.getMessage()) == null) reporter.warn("skipping " + e.getMessage());
    }

    public boolean contains(Path file) {
        return reasons.containsKey(file);
    }

    public int count() {
        return reasons.size();
    }

    /** File to reason, sorted by path. */
    public Map<Path, String> all() {
        return new TreeMap<>(reasons);
    }
}
