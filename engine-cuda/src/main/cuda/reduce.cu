// out[0] = sum of all n elements of x, in two deterministic passes (no atomics):
// sum_partial writes one double per block, sum_final adds those up in a single block. blockDim.x must be 256.

__device__ double block_sum(double value) {
    __shared__ double partial[256];
    partial[threadIdx.x] = value;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    return partial[0];
}

extern "C" __global__ void sum_partial_f32(const float* x, double* partials, long long n) {
    double acc = 0.0;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        acc += x[i];
    }
    double total = block_sum(acc);
    if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

extern "C" __global__ void sum_final_f32(const double* partials, float* out, int count) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    double total = block_sum(acc);
    if (threadIdx.x == 0) out[0] = (float) total;
}
