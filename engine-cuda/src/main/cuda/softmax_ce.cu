// Softmax cross-entropy over the rows of logits (N, K). One block of 256 threads per row.
// Targets are either I32 class indices (N) or a float distribution (N, K).

#define BLOCK 256

// Reduces one value per thread to one value for the whole block; every thread gets the result.
__device__ float block_reduce(float value, bool isMax) {
    __shared__ float partial[BLOCK];
    __syncthreads();  // the previous reduction's readers are done with `partial`
    partial[threadIdx.x] = value;
    __syncthreads();
    for (int half = BLOCK / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            float other = partial[threadIdx.x + half];
            partial[threadIdx.x] = isMax ? fmaxf(partial[threadIdx.x], other) : partial[threadIdx.x] + other;
        }
        __syncthreads();
    }
    return partial[0];
}

// probs = softmax(row); returns logsumexp(row).
__device__ float softmax_row(const float* row, float* probs, int classes) {
    float localMax = __int_as_float(0xff800000);
    for (int k = threadIdx.x; k < classes; k += BLOCK) localMax = fmaxf(localMax, row[k]);
    float rowMax = block_reduce(localMax, true);
    float localSum = 0.0f;
    for (int k = threadIdx.x; k < classes; k += BLOCK) localSum += expf(row[k] - rowMax);
    float sum = block_reduce(localSum, false);
    for (int k = threadIdx.x; k < classes; k += BLOCK) probs[k] = expf(row[k] - rowMax) / sum;
    return rowMax + logf(sum);
}

// rowLoss[n] = logsumexp(logits[n]) - logits[n, labels[n]]; an out-of-range label gives NaN.
extern "C" __global__ void softmax_ce_forward_index_f32(const float* logits, const int* labels, float* probs,
                                                        float* rowLoss, int classes) {
    long long n = blockIdx.x;
    const float* row = logits + n * classes;
    float lse = softmax_row(row, probs + n * classes, classes);
    if (threadIdx.x == 0) {
        int label = labels[n];
        rowLoss[n] = (label >= 0 && label < classes) ? lse - row[label] : __int_as_float(0x7fc00000);
    }
}

// rowLoss[n] = logsumexp(logits[n]) - sum_k target[n, k] * logits[n, k]
extern "C" __global__ void softmax_ce_forward_dist_f32(const float* logits, const float* targets, float* probs,
                                                       float* rowLoss, int classes) {
    long long n = blockIdx.x;
    const float* row = logits + n * classes;
    const float* target = targets + n * classes;
    float lse = softmax_row(row, probs + n * classes, classes);
    float localDot = 0.0f;
    for (int k = threadIdx.x; k < classes; k += BLOCK) localDot += target[k] * row[k];
    float dot = block_reduce(localDot, false);
    if (threadIdx.x == 0) rowLoss[n] = lse - dot;
}

// dlogits[n, k] = scale * (probs[n, k] - (k == labels[n] ? 1 : 0)); grid-stride over N * K.
extern "C" __global__ void softmax_ce_backward_index_f32(const float* probs, const int* labels, float scale,
                                                         float* dlogits, int classes, long long total) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) blockDim.x * gridDim.x) {
        int k = (int) (i % classes);
        float target = labels[i / classes] == k ? 1.0f : 0.0f;
        dlogits[i] = scale * (probs[i] - target);
    }
}

// dlogits = scale * (probs - targets)
extern "C" __global__ void softmax_ce_backward_dist_f32(const float* probs, const float* targets, float scale,
                                                        float* dlogits, long long total) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) blockDim.x * gridDim.x) {
        dlogits[i] = scale * (probs[i] - targets[i]);
    }
}
