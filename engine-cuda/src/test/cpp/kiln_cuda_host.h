// CUDA C on the host: just enough of CUDA's execution model to run Kiln's kernels (src/main/cuda) on a CPU, so that
// tests on a machine without a GPU still execute every line of them, launched exactly as CudaBackend launches them.
//
// The model, kept deliberately simple:
//   - Blocks run one after another, so `__shared__` can be plain `static` storage that each block reuses. It is
//     poisoned (all bits set: NaN) before each block, since a GPU leaves it undefined.
//   - Blocks, and the threads of a block between barriers, run in a shuffled order: a GPU promises no order either,
//     and a kernel that depends on one should fail here too. Each launch seeds its shuffles from the kernel's name,
//     its geometry and how often that kernel has run in this process, so a failure repeats when the same tests run
//     in the same order. (A thread runs uninterrupted between barriers, though: a lost update between two threads'
//     `+=` on one location cannot happen here.)
//   - A kernel registered as *independent* runs its threads one after another as plain calls; it must not wait at a
//     barrier, and one that does fails the launch with a message (a mis-registered kernel is caught, not masked).
//   - A *cooperative* kernel (one that uses __syncthreads or warp shuffles) runs each thread of a block as a
//     coroutine (ucontext). A thread runs until it waits at a barrier; a barrier opens when every thread it covers
//     is there, at the same __syncthreads line. A barrier that some covered threads can never reach (they
//     returned, or wait elsewhere) fails the launch: on a GPU that is a hang or undefined behaviour.
//   - Float math is the C library's, without contraction (the build passes -ffp-contract=off, as NVRTC gets
//     --fmad=false); rsqrtf, expf and logf may differ from the GPU's in the last bits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};

namespace kiln_host {

constexpr int WARP = 32;
constexpr std::size_t STACK_BYTES = 256 * 1024;

enum class Where { Running, AtBlockBarrier, AtWarpBarrier, Returned, Failed };

struct EmulatedThread {
    dim3 index;
    Where where = Where::Running;
    const char* site = nullptr;  // the file and line of the __syncthreads it waits at
    ucontext_t context;
};

// The launch in progress (one at a time; the entry point holds a lock).
struct Launch {
    const char* kernel = "";
    void (*body)(void**) = nullptr;
    void** args = nullptr;
    bool cooperative = false;
    dim3 grid, block, blockIndex;
    std::vector<EmulatedThread> threads;
    EmulatedThread* current = nullptr;
    ucontext_t scheduler;
    std::vector<unsigned long long> shuffleSlots;
    std::mt19937_64 random;  // reseeded for every launch, see run()
    std::vector<EmulatedThread*> order;  // this pass's thread order
    std::string error;  // set by a coroutine that cannot go on; the scheduler reports it
};

inline Launch& launch() {
    static Launch state;
    return state;
}

[[noreturn]] inline void fail(const std::string& why) {
    throw std::runtime_error(std::string("kernel ") + launch().kernel + ": " + why);
}

// Ends the launch with an error from inside a kernel. A coroutine must not unwind through makecontext's frame, so it
// leaves the message and never runs again; a plain call simply throws.
[[noreturn]] inline void fail_in_kernel(const std::string& why) {
    Launch& l = launch();
    if (!l.cooperative) fail(why);
    l.error = why;
    l.current->where = Where::Failed;
    swapcontext(&l.current->context, &l.scheduler);
    std::abort();  // not reached: a failed thread is never resumed
}

// Suspends the calling thread at a barrier; the scheduler resumes it once the barrier opens.
inline void wait_at(Where barrier, const char* what, const char* site = "") {
    Launch& l = launch();
    if (!l.cooperative) {
        fail(std::string(what) + " in a kernel registered as independent threads; register it as cooperative");
    }
    EmulatedThread* self = l.current;
    self->where = barrier;
    self->site = site;
    swapcontext(&self->context, &l.scheduler);
}

inline void thread_entry() {
    Launch& l = launch();
    l.body(l.args);
    l.current->where = Where::Returned;
    // Returning resumes the scheduler through uc_link.
}

// Opens every barrier whose threads have all arrived; returns an error message for one that can never open.
inline std::string open_barriers(std::vector<EmulatedThread>& threads) {
    std::size_t n = threads.size(), returned = 0, atBlock = 0;
    for (auto& t : threads) {
        returned += t.where == Where::Returned;
        atBlock += t.where == Where::AtBlockBarrier;
    }
    for (std::size_t warp = 0; warp < n; warp += WARP) {
        std::size_t end = std::min(warp + WARP, n), waiting = 0, gone = 0;
        for (std::size_t i = warp; i < end; i++) {
            waiting += threads[i].where == Where::AtWarpBarrier;
            gone += threads[i].where == Where::Returned;
        }
        if (waiting == end - warp) {
            for (std::size_t i = warp; i < end; i++) threads[i].where = Where::Running;
        } else if (waiting > 0 && waiting + gone == end - warp) {
            return "a warp shuffle in warp " + std::to_string(warp / WARP) + " after " + std::to_string(gone)
                   + " of its lanes returned";
        }
    }
    if (atBlock == n) {
        // One barrier is one call site: threads at two different __syncthreads would hang a GPU.
        for (auto& t : threads) {
            if (std::strcmp(t.site, threads[0].site) != 0) {
                return std::string("threads wait at two different __syncthreads calls (") + threads[0].site + " and "
                       + t.site + ")";
            }
        }
        for (auto& t : threads) t.where = Where::Running;
    } else if (atBlock > 0 && atBlock + returned == n) {
        return "__syncthreads reached by " + std::to_string(atBlock) + " of " + std::to_string(n)
               + " threads; the others returned";
    }
    for (auto& t : threads) {
        if (t.where == Where::Running) return "";
    }
    if (returned == n) return "";
    return "threads wait at different barriers (" + std::to_string(atBlock) + " at __syncthreads, "
           + std::to_string(returned) + " returned, the rest at warp shuffles): a GPU would hang";
}

// Coroutine stacks, each with an inaccessible page below it, so that an overflow faults instead of corrupting
// the neighbouring stack.
inline std::vector<char*>& stacks(std::size_t count) {
    static std::vector<char*> pool;
    static const std::size_t page = (std::size_t) sysconf(_SC_PAGESIZE);
    while (pool.size() < count) {
        void* region = mmap(nullptr, page + STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED) throw std::runtime_error("no memory for an emulated thread's stack");
        mprotect(region, page, PROT_NONE);
        pool.push_back(static_cast<char*>(region) + page);
    }
    return pool;
}

inline void run_block_cooperatively(Launch& l) {
    std::size_t n = l.threads.size();
    auto& pool = stacks(n);
    for (std::size_t i = 0; i < n; i++) {
        EmulatedThread& t = l.threads[i];
        t.where = Where::Running;
        getcontext(&t.context);
        t.context.uc_stack.ss_sp = pool[i];
        t.context.uc_stack.ss_size = STACK_BYTES;
        t.context.uc_link = &l.scheduler;
        makecontext(&t.context, thread_entry, 0);
    }
    while (true) {
        std::shuffle(l.order.begin(), l.order.end(), l.random);
        for (EmulatedThread* t : l.order) {
            if (t->where != Where::Running) continue;
            l.current = t;
            swapcontext(&l.scheduler, &t->context);
        }
        if (!l.error.empty()) fail(l.error);
        std::string error = open_barriers(l.threads);
        if (!error.empty()) fail(error);
        bool allReturned = true;
        for (auto& t : l.threads) allReturned &= t.where == Where::Returned;
        if (allReturned) return;
    }
}

inline void run_block_independently(Launch& l) {
    std::shuffle(l.order.begin(), l.order.end(), l.random);
    for (EmulatedThread* t : l.order) {
        l.current = t;
        l.body(l.args);
        t->where = Where::Returned;
    }
}

// The bounds of the kiln_shared_memory section, which the linker defines once a __shared__ variable is in it.
extern "C" char __start_kiln_shared_memory[] __attribute__((weak));
extern "C" char __stop_kiln_shared_memory[] __attribute__((weak));

// A block finds its shared memory holding garbage on a GPU, not the previous block's values: all bits set, a NaN in
// every float and double, so that a read before the block's own write shows in the result.
inline void poison_shared_memory() {
    if (__start_kiln_shared_memory == nullptr) return;
    std::memset(__start_kiln_shared_memory, 0xff, __stop_kiln_shared_memory - __start_kiln_shared_memory);
}

// Runs kernel `body` over a 1-D grid of 1-D blocks, as cuLaunchKernel(f, grid, 1, 1, block, 1, 1, ...) would.
inline void run(const char* kernel, void (*body)(void**), void** args, bool cooperative, unsigned grid,
                unsigned block) {
    Launch& l = launch();
    l.kernel = kernel;
    l.body = body;
    l.args = args;
    l.cooperative = cooperative;
    l.grid = dim3{grid, 1, 1};
    l.block = dim3{block, 1, 1};
    l.threads.assign(block, EmulatedThread{});
    l.order.clear();
    for (unsigned i = 0; i < block; i++) {
        l.threads[i].index = dim3{i, 1, 1};
        l.order.push_back(&l.threads[i]);
    }
    l.shuffleSlots.assign(block, 0);
    l.error.clear();
    static std::map<std::string, unsigned long long> launches;
    std::size_t seed = std::hash<std::string>{}(kernel) ^ (std::size_t(grid) << 20) ^ block;
    l.random.seed(seed + 0x9e3779b97f4a7c15ull * launches[kernel]++);
    std::vector<unsigned> blocks(grid);
    for (unsigned b = 0; b < grid; b++) blocks[b] = b;
    std::shuffle(blocks.begin(), blocks.end(), l.random);
    for (unsigned b : blocks) {
        l.blockIndex = dim3{b, 1, 1};
        poison_shared_memory();
        for (auto& t : l.threads) t.where = Where::Running;
        if (cooperative) run_block_cooperatively(l);
        else run_block_independently(l);
    }
}

// Calls a kernel with the values that cuLaunchKernel's kernelParams point at, one pointer per parameter.
template <typename F>
struct Signature;

template <typename... P>
struct Signature<void (*)(P...)> {
    static constexpr std::size_t count = sizeof...(P);

    template <auto Kernel, std::size_t... I>
    static void call(void** args, std::index_sequence<I...>) {
        Kernel(*static_cast<std::decay_t<P>*>(args[I])...);
    }
};

template <auto Kernel>
void invoke(void** args) {
    using S = Signature<decltype(Kernel)>;
    S::template call<Kernel>(args, std::make_index_sequence<S::count>{});
}

}  // namespace kiln_host

// ------------------------------------------------------------------ what the kernels see

#define __global__
#define __device__ static inline  // static: so that their __shared__ statics are not COMDAT
// All shared memory lives in one linker section, so that each block can start with it poisoned (below).
#define __shared__ static __attribute__((section("kiln_shared_memory")))

#define threadIdx (::kiln_host::launch().current->index)
#define blockIdx (::kiln_host::launch().blockIndex)
#define blockDim (::kiln_host::launch().block)
#define gridDim (::kiln_host::launch().grid)

// A macro, so that each barrier knows its line: threads waiting at two different __syncthreads calls would hang a
// GPU. (A call's return address will not do: the optimizer copies a call into both arms of a branch.)
#define __syncthreads() ::kiln_host::wait_at(::kiln_host::Where::AtBlockBarrier, "__syncthreads", \
                                             __FILE__ ":" KILN_HOST_STRING(__LINE__))
#define KILN_HOST_STRING(x) KILN_HOST_STRING_(x)
#define KILN_HOST_STRING_(x) #x

// Lane i gets lane i + delta's value, or its own where i + delta leaves the warp. Only a full warp is modelled.
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = kiln_host::WARP) {
    static_assert(sizeof(T) <= sizeof(unsigned long long), "shuffle of a value wider than 8 bytes");
    if (mask != 0xffffffffu || width != kiln_host::WARP) {
        kiln_host::fail_in_kernel("only full-warp shuffles are emulated");
    }
    kiln_host::Launch& l = kiln_host::launch();
    unsigned self = l.current->index.x;
    unsigned lane = self % kiln_host::WARP;
    if (self - lane + kiln_host::WARP > l.block.x) {
        kiln_host::fail_in_kernel("a full-warp shuffle in a warp of fewer than 32 threads");
    }
    std::memcpy(&l.shuffleSlots[self], &value, sizeof(T));
    kiln_host::wait_at(kiln_host::Where::AtWarpBarrier, "__shfl_down_sync");
    T result = value;
    if (lane + delta < kiln_host::WARP) std::memcpy(&result, &l.shuffleSlots[self + delta], sizeof(T));
    // Nobody may overwrite a slot before every lane has read it.
    kiln_host::wait_at(kiln_host::Where::AtWarpBarrier, "__shfl_down_sync");
    return result;
}

inline float __int_as_float(int bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline float rsqrtf(float x) {
    return 1.0f / std::sqrt(x);
}

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
