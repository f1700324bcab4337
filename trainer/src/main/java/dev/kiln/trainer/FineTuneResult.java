package dev.kiln.trainer;

import java.nio.file.Path;

/** What a finished run reports. */
public record FineTuneResult(History history, double bestValAccuracy, int bestEpoch, double finalValLoss,
                             double finalValAccuracy, ConfusionMatrix finalConfusion, int skippedFiles,
                             double cacheSecondsSaved, double wallSeconds, Path outDir) {
}
