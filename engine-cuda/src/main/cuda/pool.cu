// Pooling over NCHW tensors: max pooling (square window, symmetric padding acting as -infinity, any output size
// including PyTorch's ceil_mode) and global average pooling.

// The first maximum of one window, in row-major scanning order (PyTorch's choice on ties); a NaN wins (the last
// one when there are several), as in PyTorch's CPU kernel. Returns the index h * width + w within the plane, or -1
// for a window that lies wholly in padding.
__device__ long long window_argmax(const float* plane, int height, int width, int hStart, int wStart, int kernel) {
    long long best = -1;
    float bestValue = 0.0f;
    int hEnd = min(hStart + kernel, height);
    int wEnd = min(wStart + kernel, width);
    for (int h = max(hStart, 0); h < hEnd; h++) {
        for (int w = max(wStart, 0); w < wEnd; w++) {
            float v = plane[(long long) h * width + w];
            // As the CPU and reference backends scan: a NaN replaces the best so far, even an earlier NaN.
            if (best < 0 || v > bestValue || v != v) {
                best = (long long) h * width + w;
                bestValue = v;
            }
        }
    }
    return best;
}

// y[nc, p, q] = max over the window starting at (p * stride - pad, q * stride - pad).
extern "C" __global__ void max_pool2d_forward_f32(const float* x, float* y, long long planes, int height, int width,
                                                  int outH, int outW, int kernel, int stride, int pad) {
    long long total = planes * outH * outW;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) blockDim.x * gridDim.x) {
        int q = (int) (i % outW);
        int p = (int) ((i / outW) % outH);
        long long nc = i / ((long long) outW * outH);
        const float* plane = x + nc * height * width;
        long long arg = window_argmax(plane, height, width, p * stride - pad, q * stride - pad, kernel);
        y[i] = arg < 0 ? __int_as_float(0xff800000) : plane[arg];
    }
}

// dx[nc, h, w] = sum of dy over the windows whose first maximum is (h, w). A gather, one thread per input element,
// so it needs no atomics and is deterministic; each window's argmax is recomputed from x.
extern "C" __global__ void max_pool2d_backward_f32(const float* x, const float* dy, float* dx, long long planes,
                                                   int height, int width, int outH, int outW, int kernel,
                                                   int stride, int pad) {
    long long total = planes * height * width;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) blockDim.x * gridDim.x) {
        int w = (int) (i % width);
        int h = (int) ((i / width) % height);
        long long nc = i / ((long long) width * height);
        const float* plane = x + nc * height * width;
        const float* dyPlane = dy + nc * outH * outW;
        long long self = (long long) h * width + w;
        // Windows p with p * stride - pad <= h <= p * stride - pad + kernel - 1.
        int pFirst = h + pad < kernel ? 0 : (h + pad - kernel) / stride + 1;
        int pLast = min((h + pad) / stride, outH - 1);
        int qFirst = w + pad < kernel ? 0 : (w + pad - kernel) / stride + 1;
        int qLast = min((w + pad) / stride, outW - 1);
        float grad = 0.0f;
        for (int p = pFirst; p <= pLast; p++) {
            for (int q = qFirst; q <= qLast; q++) {
                if (window_argmax(plane, height, width, p * stride - pad, q * stride - pad, kernel) == self) {
                    grad += dyPlane[(long long) p * outW + q];
                }
            }
        }
        dx[i] = grad;
    }
}

// y[r] = mean of x[r, 0 .. area). One warp per row r of the (N * C, H * W) view; blockDim.x must be a multiple of 32.
extern "C" __global__ void global_avg_pool_forward_f32(const float* x, float* y, long long rows, long long area) {
    long long warpsPerGrid = (long long) gridDim.x * (blockDim.x / 32);
    int lane = threadIdx.x % 32;
    for (long long r = (long long) blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warpsPerGrid) {
        const float* row = x + r * area;
        float acc = 0.0f;
        for (long long j = lane; j < area; j += 32) acc += row[j];
        for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
        if (lane == 0) y[r] = acc / (float) area;
    }
}

// dx[r, j] = dy[r] / area
extern "C" __global__ void global_avg_pool_backward_f32(const float* dy, float* dx, long long rows, long long area) {
    long long total = rows * area;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) blockDim.x * gridDim.x) {
        dx[i] = dy[i / area] / (float) area;
    }
}
