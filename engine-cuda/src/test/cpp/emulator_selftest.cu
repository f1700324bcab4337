// Kernels that exist only to test the host emulation itself (HostKernelsTest), written as CUDA C like src/main/cuda.

// out = in with each block's blockDim.x elements reversed, through shared memory: right only if every thread's
// store is visible to every other thread after the barrier.
extern "C" __global__ void selftest_block_reverse_f32(const float* in, float* out) {
    __shared__ float tile[1024];
    long long base = (long long) blockIdx.x * blockDim.x;
    tile[threadIdx.x] = in[base + threadIdx.x];
    __syncthreads();
    out[base + threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

// out[w] = sum of in over the 32 lanes of warp w, by shuffles down.
extern "C" __global__ void selftest_warp_sum_f32(const float* in, float* out) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    float acc = in[i];
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (threadIdx.x % 32 == 0) out[i / 32] = acc;
}

// Half the threads return before a barrier the other half waits at: a hang on a GPU.
extern "C" __global__ void selftest_divergent_barrier(float* out) {
    if (threadIdx.x % 2 == 0) return;
    __syncthreads();
    out[threadIdx.x] = 1.0f;
}

// Waits at a barrier but is registered as independent threads.
extern "C" __global__ void selftest_unregistered_barrier(float* out) {
    out[threadIdx.x] = 1.0f;
    __syncthreads();
}

// Records the order in which threads and blocks run: order[k] = the k-th (block, thread) to get here, as
// blockIdx.x * blockDim.x + threadIdx.x. Not a valid GPU kernel (the counter races); the emulation runs one
// thread at a time.
extern "C" __global__ void selftest_record_order(int* order, int* counter) {
    order[(*counter)++] = (int) (blockIdx.x * blockDim.x + threadIdx.x);
}

// Even and odd threads wait at two different barriers: a hang on a GPU.
extern "C" __global__ void selftest_two_barriers(float* out) {
    if (threadIdx.x % 2 == 0) {
        __syncthreads();
        out[threadIdx.x] = 1.0f;
    } else {
        __syncthreads();
        out[threadIdx.x] = 2.0f;
    }
}

// Reads its shared memory before writing it: out gets whatever the block found there.
extern "C" __global__ void selftest_read_shared_first(float* out) {
    __shared__ float scratch[64];
    out[blockIdx.x * blockDim.x + threadIdx.x] = scratch[threadIdx.x];
    __syncthreads();
    scratch[threadIdx.x] = 1.0f;
}
