package dev.kiln.trainer;

import dev.kiln.io.AtomicFiles;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** {@code accuracy.png} and {@code loss.png}: train and val curves per epoch, the start of fine-tuning marked. */
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true"); // no display on servers and CI
    }

    private Plots() {
    }

    public static void write(History history, Path outDir) throws IOException {
        chart(history, "accuracy", EpochRecord::accuracy, EpochRecord::valAccuracy, outDir.resolve("accuracy.png"));
        chart(history, "loss", EpochRecord::loss, EpochRecord::valLoss, outDir.resolve("loss.png"));
    }

    private static void chart(History history, String metric, ToDoubleFunction<EpochRecord> train,
                              ToDoubleFunction<EpochRecord> val, Path file) throws IOException {
        List<EpochRecord> rs = history.records();
        if (rs.isEmpty()) return;
        double[] x = rs.stream().mapToDouble(EpochRecord::epoch).toArray();
        double[] yTrain = rs.stream().mapToDouble(train).toArray();
        double[] yVal = rs.stream().mapToDouble(val).toArray();
        XYChart chart = new XYChartBuilder().width(800).height(500)
                .title(metric + " per epoch").xAxisTitle("epoch").yAxisTitle(metric).build();
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.addSeries("train " + metric, x, yTrain).setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("val " + metric, x, yVal).setMarker(SeriesMarkers.DIAMOND);
        int boundary = history.phaseBoundary();
        if (boundary > 0 && boundary < rs.get(rs.size() - 1).epoch()) {
            double at = boundary + 0.5;
            chart.addAnnotation(new AnnotationLine(at, true, false));
            // The label is centred on its point: put it right of the line, halfway up, clear of the curves' ends.
            double lo = Math.min(min(yTrain), min(yVal));
            double hi = Math.max(max(yTrain), max(yVal));
            double labelX = at + 0.1 * rs.size() + 0.2;
            chart.addAnnotation(new AnnotationText("fine-tuning starts", labelX, lo + 0.5 * (hi - lo), false));
        }
        // Single-epoch charts need an x range, or XChart draws a degenerate axis.
        if (rs.size() == 1) {
            chart.getStyler().setXAxisMin(x[0] - 1);
            chart.getStyler().setXAxisMax(x[0] + 1);
        }
        AtomicFiles.write(file, temp -> {
            try (OutputStream out = Files.newOutputStream(temp)) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double d : v) if (Double.isFinite(d)) m = Math.min(m, d);
        return m;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double d : v) if (Double.isFinite(d)) m = Math.max(m, d);
        return m;
    }
}
