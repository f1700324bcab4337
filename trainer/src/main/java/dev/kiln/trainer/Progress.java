package dev.kiln.trainer;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.text.DecimalFormat;
import java.time.temporal.ChronoUnit;

/** A per-epoch progress bar in images (count, images/s, ETA, running loss and accuracy); silent when disabled. */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    static Progress start(Reporter reporter, String task, long images) {
        if (!reporter.showProgress()) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(images)
                .setUnit(" img", 1)
                .showSpeed(new DecimalFormat("0.0"))
                .setSpeedUnit(ChronoUnit.SECONDS)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200)
                .setMaxRenderedLength(130)
                .build();
        return new Progress(bar);
    }

    void step(int images, String extra) {
        if (bar == null) return;
        bar.stepBy(images);
        bar.setExtraMessage(extra);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
