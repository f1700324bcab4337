package dev.kiln.backend;

import dev.kiln.tensor.Tensor;

/**
 * A batch norm that normalizes with fixed statistics (evaluation, or a frozen layer): per channel,
 * {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}. All four tensors are (C). Passed to the fused
 * convolution kernel {@link Backend#conv2dBatchNormForward}.
 */
public record InferenceBatchNorm(Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
}
