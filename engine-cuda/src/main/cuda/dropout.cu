// Dropout mask from a counter-based generator: element i's random number is a hash of (seed, i), so the mask
// depends only on the seed and the index, not on the launch geometry, and needs no generator state on the device.

// SplitMix64's finalizer: a bijective mix of 64 bits with good avalanche.
__device__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// mask[i] = 0 with probability p, else keepScale (= 1 / (1 - p)).
extern "C" __global__ void dropout_mask_f32(float* mask, float p, float keepScale, unsigned long long seed,
                                            long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) blockDim.x * gridDim.x) {
        unsigned long long bits = mix64(seed + 0x9e3779b97f4a7c15ull * (unsigned long long) (i + 1));
        float u = (float) (bits >> 40) * (1.0f / 16777216.0f);  // 24 random bits: uniform in [0, 1)
        mask[i] = u < p ? 0.0f : keepScale;
    }
}
