// Strided copy with dtype conversion: dst[index] = (DstT) src[index] for two views of the same shape.
// The layout travels by value as one struct of 8-byte words, so the host packs it as a plain long[].

#define MAX_RANK 8

struct StridedLayout {
    long long rank;
    long long numel;
    long long shape[MAX_RANK];
    long long srcStride[MAX_RANK];
    long long dstStride[MAX_RANK];
    long long srcOffset;   // in elements
    long long dstOffset;   // in elements
};

template <typename SrcT, typename DstT>
__device__ void strided_copy(const SrcT* src, DstT* dst, const StridedLayout& layout) {
    for (long long linear = (long long) blockIdx.x * blockDim.x + threadIdx.x; linear < layout.numel;
         linear += (long long) blockDim.x * gridDim.x) {
        // Unravel the row-major linear index into coordinates, innermost dimension first.
        long long rest = linear;
        long long s = layout.srcOffset;
        long long d = layout.dstOffset;
        for (int k = (int) layout.rank - 1; k >= 0; k--) {
            long long coord = rest % layout.shape[k];
            rest /= layout.shape[k];
            s += coord * layout.srcStride[k];
            d += coord * layout.dstStride[k];
        }
        dst[d] = (DstT) src[s];
    }
}

extern "C" __global__ void copy_f32_f32(const float* src, float* dst, StridedLayout layout) {
    strided_copy<float, float>(src, dst, layout);
}

extern "C" __global__ void copy_f32_i32(const float* src, int* dst, StridedLayout layout) {
    strided_copy<float, int>(src, dst, layout);
}

extern "C" __global__ void copy_i32_f32(const int* src, float* dst, StridedLayout layout) {
    strided_copy<int, float>(src, dst, layout);
}

extern "C" __global__ void copy_i32_i32(const int* src, int* dst, StridedLayout layout) {
    strided_copy<int, int>(src, dst, layout);
}
