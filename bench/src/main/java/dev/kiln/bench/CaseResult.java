package dev.kiln.bench;

import java.util.Locale;
import java.util.Map;

/**
 * What one case measured. Times are wall-clock milliseconds per step; images/s comes from the median step.
 *
 * @param profileMillis per kernel family, milliseconds per step (median run's share is not tracked: this is the
 *                      mean over the timed steps); empty without --profile
 */
record CaseResult(String caseName, String device, int batch, int threads, int steps, double medianMs, double minMs,
                  double maxMs, double flopsPerStep, long peakRssBytes, long backendPeakBytes,
                  Map<KernelFamily, Double> profileMillis) {
    /** The machine's limit: 2 Zen 5 cores, two 512-bit FMA units each, about 3.45 GHz (anchors README). */
    static final double PEAK_GFLOPS = 440;

    double imagesPerSecond() {
        return batch * 1000.0 / medianMs;
    }

    double gflops() {
        return flopsPerStep / 1e9 / (medianMs / 1000.0);
    }

    double shareOfPeak() {
        return gflops() / PEAK_GFLOPS;
    }

    private static double mib(long bytes) {
        return bytes < 0 ? -1 : bytes / (1024.0 * 1024.0);
    }

    /** One JSON object on one line. */
    String toJson() {
        StringBuilder sb = new StringBuilder("{");
        field(sb, "case", "\"" + caseName + "\"");
        field(sb, "device", "\"" + device + "\"");
        field(sb, "batch", Integer.toString(batch));
        field(sb, "threads", Integer.toString(threads));
        field(sb, "steps", Integer.toString(steps));
        field(sb, "images_per_second", num(imagesPerSecond()));
        field(sb, "ms_median", num(medianMs));
        field(sb, "ms_min", num(minMs));
        field(sb, "ms_max", num(maxMs));
        field(sb, "gflop_per_step", num(flopsPerStep / 1e9));
        field(sb, "gflops", num(gflops()));
        field(sb, "peak_share", num(shareOfPeak()));
        field(sb, "peak_rss_mib", num(mib(peakRssBytes)));
        field(sb, "backend_peak_mib", num(mib(backendPeakBytes)));
        if (!profileMillis.isEmpty()) {
            StringBuilder p = new StringBuilder("{");
            profileMillis.forEach((f, ms) -> field(p, f.key(), num(ms)));
            p.append('}');
            field(sb, "profile_ms_per_step", p.toString());
        }
        return sb.append('}').toString();
    }

    private static void field(StringBuilder sb, String key, String value) {
        if (sb.length() > 1) sb.append(", ");
        sb.append('"').append(key).append("\": ").append(value);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "null";
    }

    /** A few human-readable lines. */
    String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "%-16s batch %3d  threads %d  %-4s  median %8.1f ms [min %.1f, max %.1f]  %7.2f img/s  "
                        + "%6.1f GFLOP/s (%4.1f%% of %.0f)  peak RSS %6.0f MiB  backend peak %6.0f MiB%n",
                caseName, batch, threads, device, medianMs, minMs, maxMs, imagesPerSecond(), gflops(),
                100 * shareOfPeak(), PEAK_GFLOPS, mib(peakRssBytes), mib(backendPeakBytes)));
        if (!profileMillis.isEmpty()) {
            double total = profileMillis.values().stream().mapToDouble(Double::doubleValue).sum();
            for (Map.Entry<KernelFamily, Double> e : profileMillis.entrySet()) {
                if (e.getValue() < 0.05) continue;
                sb.append(String.format(Locale.ROOT, "    %-22s %9.1f ms/step  %5.1f%%%n", e.getKey().label(),
                        e.getValue(), 100 * e.getValue() / medianMs));
            }
            sb.append(String.format(Locale.ROOT, "    %-22s %9.1f ms/step  %5.1f%%%n", "(outside kernels)",
                    medianMs - total, 100 * (medianMs - total) / medianMs));
        }
        return sb.toString();
    }
}
