// Per-channel kernels for tensors of shape (N, C) or (N, C, H, W), viewed as (N, C, inner) with inner = H * W.

// y[n, c, j] += bias[c]
extern "C" __global__ void add_channel_bias_f32(float* y, const float* bias, long long channels, long long inner,
                                                long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        y[i] += bias[(i / inner) % channels];
    }
}

// out[c] = sum over n and j of dy[n, c, j]. One block per channel; blockDim.x must be 256.
// Accumulates in double so that millions of terms per channel keep float accuracy.
extern "C" __global__ void channel_sum_f32(const float* dy, float* out, long long batch, long long channels,
                                           long long inner) {
    __shared__ double partial[256];
    long long c = blockIdx.x;
    long long count = batch * inner;
    double acc = 0.0;
    for (long long k = threadIdx.x; k < count; k += blockDim.x) {
        long long n = k / inner;
        long long j = k - n * inner;
        acc += dy[(n * channels + c) * inner + j];
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[c] = (float) partial[0];
}
