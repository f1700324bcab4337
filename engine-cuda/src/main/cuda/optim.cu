// Optimizer steps, in place on the parameter, one thread per element. The host computes every per-step constant
// (bias corrections) in double, so the kernels only do the elementwise part, in the order torch.optim does it.

// torch.optim.Adam / AdamW, with every per-step constant from the host (1 - beta in double, as torch does):
//   g += l2 * p (Adam's coupled weight decay, else l2 = 0)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
//   p = p * decay - stepSize * m / (sqrt(v) * invSqrtBiasCorrection2 + eps)
//   decay = 1 - lr * wd for AdamW, else 1;   stepSize = lr / biasCorrection1
// The same order of operations as the CPU backend's Adam (CpuOptimizers.adam).
extern "C" __global__ void adam_step_f32(float* param, const float* grad, float* m, float* v, float beta1,
                                         float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps, float l2,
                                         float decay, float stepSize, float invSqrtBiasCorrection2, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        float p = param[i];
        float g = grad[i] + l2 * p;
        float mi = beta1 * m[i] + oneMinusBeta1 * g;
        float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p * decay - stepSize * mi / (sqrtf(vi) * invSqrtBiasCorrection2 + eps);
    }
}

// torch.optim.SGD without dampening or Nesterov:
//   g += wd * p;   buf = g on the first step, else momentum * buf + g (only when momentum != 0);   p -= lr * buf
extern "C" __global__ void sgd_step_f32(float* param, const float* grad, float* buf, float lr, float momentum,
                                        float weightDecay, int firstStep, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        float p = param[i];
        float g = grad[i] + weightDecay * p;
        if (momentum != 0.0f) {
            g = firstStep ? g : momentum * buf[i] + g;
            buf[i] = g;
        }
        param[i] = p - lr * g;
    }
}
