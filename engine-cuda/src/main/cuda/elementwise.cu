// Elementwise kernels over contiguous F32 / I32 buffers of n elements.
// Every kernel uses a grid-stride loop, so any grid size covers any n.
// Compiled at run time by NVRTC (no headers available): only built-in types and functions are used.

#define GRID_STRIDE_LOOP(i, n) \
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long) blockDim.x * gridDim.x)

extern "C" __global__ void fill_f32(float* out, float value, long long n) {
    GRID_STRIDE_LOOP(i, n) out[i] = value;
}

extern "C" __global__ void fill_i32(int* out, int value, long long n) {
    GRID_STRIDE_LOOP(i, n) out[i] = value;
}

// out = a + b
extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] + b[i];
}

// out = a * b
extern "C" __global__ void mul_f32(const float* a, const float* b, float* out, long long n) {
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] * b[i];
}

// out = alpha * x (out may alias x)
extern "C" __global__ void scale_f32(const float* x, float alpha, float* out, long long n) {
    GRID_STRIDE_LOOP(i, n) out[i] = alpha * x[i];
}

// y += alpha * x
extern "C" __global__ void axpy_f32(float alpha, const float* x, float* y, long long n) {
    GRID_STRIDE_LOOP(i, n) y[i] += alpha * x[i];
}

// dx = dy where y > 0, else 0 (the gradient at exactly 0 is 0, as in PyTorch)
extern "C" __global__ void relu_backward_f32(const float* y, const float* dy, float* dx, long long n) {
    GRID_STRIDE_LOOP(i, n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
