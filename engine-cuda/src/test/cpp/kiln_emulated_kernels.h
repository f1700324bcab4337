// Kiln's CUDA C kernels, compiled for the host on top of kiln_cuda_host.h, and the one entry point through which
// tests launch them (HostKernels.java). The .cu files are the very sources NVRTC compiles on a GPU machine.
#pragma once

#include <mutex>
#include <string>

#include "kiln_cuda_host.h"

#include "elementwise.cu"
#include "copy.cu"
#include "channel.cu"
#include "reduce.cu"
#include "pool.cu"
#include "softmax_ce.cu"
#include "optim.cu"
#include "dropout.cu"
#include "batchnorm.cu"

#include "emulator_selftest.cu"

namespace kiln_host {

struct RegisteredKernel {
    const char* name;
    void (*body)(void**);
    bool cooperative;  // waits at __syncthreads or warp shuffles
};

#define KILN_INDEPENDENT(kernel) {#kernel, &invoke<kernel>, false}
#define KILN_COOPERATIVE(kernel) {#kernel, &invoke<kernel>, true}

// Every extern "C" __global__ kernel of src/main/cuda (HostKernelsTest checks that none is missing), then the
// emulation's self-tests.
inline const RegisteredKernel KERNELS[] = {
    KILN_INDEPENDENT(fill_f32),
    KILN_INDEPENDENT(fill_i32),
    KILN_INDEPENDENT(add_f32),
    KILN_INDEPENDENT(mul_f32),
    KILN_INDEPENDENT(scale_f32),
    KILN_INDEPENDENT(axpy_f32),
    KILN_INDEPENDENT(relu_backward_f32),
    KILN_INDEPENDENT(copy_f32_f32),
    KILN_INDEPENDENT(copy_f32_i32),
    KILN_INDEPENDENT(copy_i32_f32),
    KILN_INDEPENDENT(copy_i32_i32),
    KILN_INDEPENDENT(add_channel_bias_f32),
    KILN_COOPERATIVE(channel_sum_f32),
    KILN_COOPERATIVE(sum_partial_f32),
    KILN_COOPERATIVE(sum_final_f32),
    KILN_INDEPENDENT(max_pool2d_forward_f32),
    KILN_INDEPENDENT(max_pool2d_backward_f32),
    KILN_COOPERATIVE(global_avg_pool_forward_f32),
    KILN_INDEPENDENT(global_avg_pool_backward_f32),
    KILN_COOPERATIVE(softmax_ce_forward_index_f32),
    KILN_COOPERATIVE(softmax_ce_forward_dist_f32),
    KILN_INDEPENDENT(softmax_ce_backward_index_f32),
    KILN_INDEPENDENT(softmax_ce_backward_dist_f32),
    KILN_INDEPENDENT(adam_step_f32),
    KILN_INDEPENDENT(sgd_step_f32),
    KILN_INDEPENDENT(dropout_mask_f32),
    KILN_COOPERATIVE(bn_inference_backward_params_f32),
    KILN_INDEPENDENT(bn_inference_backward_data_f32),
    // The emulation's own tests.
    KILN_COOPERATIVE(selftest_block_reverse_f32),
    KILN_COOPERATIVE(selftest_warp_sum_f32),
    KILN_COOPERATIVE(selftest_divergent_barrier),
    KILN_COOPERATIVE(selftest_two_barriers),
    KILN_COOPERATIVE(selftest_read_shared_first),
    KILN_INDEPENDENT(selftest_unregistered_barrier),
    KILN_INDEPENDENT(selftest_record_order),
};

#undef KILN_INDEPENDENT
#undef KILN_COOPERATIVE

inline std::string& last_error() {
    thread_local std::string message;  // read by the calling thread after the launch lock is released
    return message;
}

}  // namespace kiln_host

// Runs `kernel` over `grid` blocks of `block` threads with cuLaunchKernel's argument array. Returns NULL on success,
// else the reason (valid until the next call).
inline const char* kiln_emulate_launch(const char* kernel, int grid, int block, void** args) {
    static std::mutex oneAtATime;
    std::lock_guard<std::mutex> lock(oneAtATime);
    std::string& error = kiln_host::last_error();
    error.clear();
    if (grid <= 0 || block <= 0 || block > 1024) {
        error = std::string("kernel ") + kernel + ": invalid launch of " + std::to_string(grid) + " blocks of "
                + std::to_string(block) + " threads";
        return error.c_str();
    }
    for (const auto& k : kiln_host::KERNELS) {
        if (std::string(k.name) != kernel) continue;
        try {
            kiln_host::run(k.name, k.body, args, k.cooperative, (unsigned) grid, (unsigned) block);
            return nullptr;
        } catch (const std::exception& e) {
            error = e.what();
            return error.c_str();
        }
    }
    error = std::string("kernel ") + kernel + " is not registered with the host emulation";
    return error.c_str();
}

// The registered kernels' names, separated by spaces.
inline const char* kiln_emulated_kernel_names() {
    static std::string names;
    if (names.empty()) {
        for (const auto& k : kiln_host::KERNELS) names += std::string(k.name) + " ";
    }
    return names.c_str();
}
