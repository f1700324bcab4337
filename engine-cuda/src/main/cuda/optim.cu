// Optimizer steps, in place on the parameter, one thread per element. The host computes every per-step constant
// (bias corrections) in double, so the kernels only do the elementwise part, in the order torch.optim does it.

// torch.optim.Adam / AdamW:
//   decoupled (AdamW): p *= 1 - lr * wd;   otherwise (Adam, L2): g += wd * p
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
//   p -= stepSize * m / (sqrt(v) / sqrt(biasCorrection2) + eps),   stepSize = lr / biasCorrection1
extern "C" __global__ void adam_step_f32(float* param, const float* grad, float* m, float* v, float lr,
                                         float beta1, float beta2, float eps, float weightDecay, int decoupled,
                                         float stepSize, float sqrtBiasCorrection2, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        float p = param[i];
        float g = grad[i];
        if (decoupled) {
            p *= 1.0f - lr * weightDecay;
        } else {
            g += weightDecay * p;
        }
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / sqrtBiasCorrection2 + eps;
        param[i] = p - stepSize * (mi / denom);
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
