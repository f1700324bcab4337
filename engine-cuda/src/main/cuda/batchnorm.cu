// Backward of inference-mode batch norm, where mean and var are constants (cuDNN has no such entry point):
//   y = (x - mean[c]) * invStd[c] * gamma[c] + beta[c],   invStd = 1 / sqrt(var + eps)
//   dx = dy * gamma[c] * invStd[c];   dgamma[c] = sum dy * (x - mean[c]) * invStd[c];   dbeta[c] = sum dy
// Tensors are (N, C, inner). Null output pointers are skipped.

// One block of 256 threads per channel; accumulates in double.
extern "C" __global__ void bn_inference_backward_params_f32(const float* x, const float* dy, const float* mean,
                                                            const float* var, float eps, float* dgamma,
                                                            float* dbeta, long long batch, long long channels,
                                                            long long inner) {
    __shared__ double sumDy[256];
    __shared__ double sumDyXhat[256];
    long long c = blockIdx.x;
    float invStd = rsqrtf(var[c] + eps);
    float mu = mean[c];
    double accDy = 0.0;
    double accDyXhat = 0.0;
    for (long long k = threadIdx.x; k < batch * inner; k += blockDim.x) {
        long long n = k / inner;
        long long index = (n * channels + c) * inner + (k - n * inner);
        float g = dy[index];
        accDy += g;
        accDyXhat += g * (x[index] - mu) * invStd;
    }
    sumDy[threadIdx.x] = accDy;
    sumDyXhat[threadIdx.x] = accDyXhat;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            sumDy[threadIdx.x] += sumDy[threadIdx.x + half];
            sumDyXhat[threadIdx.x] += sumDyXhat[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (dgamma) dgamma[c] = (float) sumDyXhat[0];
        if (dbeta) dbeta[c] = (float) sumDy[0];
    }
}

extern "C" __global__ void bn_inference_backward_data_f32(const float* dy, const float* gamma, const float* var,
                                                          float eps, float* dx, long long channels,
                                                          long long inner, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        long long c = (i / inner) % channels;
        dx[i] = dy[i] * gamma[c] * rsqrtf(var[c] + eps);
    }
}
