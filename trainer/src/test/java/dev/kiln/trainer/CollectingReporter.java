package dev.kiln.trainer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Keeps what a run reports, for assertions (thread-safe: decoding threads warn too). */
final class CollectingReporter implements Reporter {
    final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    final List<String> warnings = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void info(String line) {
        lines.add(line);
    }

    @Override
    public void warn(String line) {
        warnings.add(line);
    }
}
