package dev.kiln.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * One GPU: its context, the cuBLAS and cuDNN handles, and raw memory and copies. All work goes to the legacy
 * default stream, so the order of calls is the order of execution and host copies synchronize implicitly.
 *
 * <p>The runtime API binds a thread to device 0 implicitly, but the driver API (kernel launches) needs a current
 * context; {@link #bind()} makes this device's primary context current on the calling thread, once per thread.
 */
final class CudaDevice implements DeviceRuntime {
    private final int index;
    private final int computeMajor;
    private final int computeMinor;
    private final String name;
    private final cublasContext cublasHandle = new cublasContext();
    private final cudnnContext cudnnHandle = new cudnnContext();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);

    CudaDevice(CudaConfig config) {
        this.index = config.device();
        String context = "initializing CUDA device " + index;
        bind();
        // cudaFree(NULL) is the customary way to create the primary context now rather than on first use.
        CudaStatus.check("cudaFree", cudart.cudaFree(DevicePointers.at(0)), context);
        CudaStatus.check("cuInit", cudart.cuInit(0), context);
        int[] value = new int[1];
        CudaStatus.check("cudaDeviceGetAttribute",
                cudart.cudaDeviceGetAttribute(value, cudart.cudaDevAttrComputeCapabilityMajor, index), context);
        computeMajor = value[0];
        CudaStatus.check("cudaDeviceGetAttribute",
                cudart.cudaDeviceGetAttribute(value, cudart.cudaDevAttrComputeCapabilityMinor, index), context);
        computeMinor = value[0];
        name = "CUDA device " + index + " (compute capability " + computeMajor + "." + computeMinor + ")";

        CudaStatus.check("cublasCreate_v2", cublas.cublasCreate_v2(cublasHandle), context);
        // Without TF32 cuBLAS computes float GEMMs in float, like the CPU path; with it, on tensor cores.
        int mathMode = config.tf32() ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH;
        CudaStatus.check("cublasSetMathMode", cublas.cublasSetMathMode(cublasHandle, mathMode), context);
        CudaStatus.check("cudnnCreate", cudnn.cudnnCreate(cudnnHandle), context);
    }

    /** Makes this device current on the calling thread (a no-op after the first call on that thread). */
    void bind() {
        if (bound.get()) return;
        CudaStatus.check("cudaSetDevice", cudart.cudaSetDevice(index), "binding a thread to CUDA device " + index);
        bound.set(true);
    }

    cublasContext cublas() {
        bind();
        return cublasHandle;
    }

    cudnnContext cudnn() {
        bind();
        return cudnnHandle;
    }

    int computeCapability() {
        return computeMajor * 10 + computeMinor;
    }

    @Override
    public String name() {
        return name;
    }

    // ------------------------------------------------------------------ raw memory

    @Override
    public long malloc(long bytes) {
        bind();
        Pointer out = new Pointer();
        int status = cudart.cudaMalloc(out, bytes);
        if (status == cudart.cudaErrorMemoryAllocation) {
            cudart.cudaGetLastError();  // clears the error so that later calls don't report it again
            return 0;
        }
        CudaStatus.checkAllocation("cudaMalloc", status, bytes, "device memory");
        return out.address();
    }

    @Override
    public void free(long address) {
        bind();
        CudaStatus.check("cudaFree", cudart.cudaFree(DevicePointers.at(address)), "device memory");
    }

    @Override
    public void awaitIdle() {
        synchronize("before returning cached device memory to the driver");
    }

    /** Free and total device memory in bytes, as the driver sees it. */
    long[] memoryInfo() {
        bind();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaStatus.check("cudaMemGetInfo", cudart.cudaMemGetInfo(free, total), "querying device memory");
            return new long[] {free.get(), total.get()};
        }
    }

    // ------------------------------------------------------------------ copies, pinned memory and events

    @Override
    public void copyToDevice(long deviceAddress, Pointer host, long bytes, String context) {
        bind();
        CudaStatus.check("cudaMemcpy",
                cudart.cudaMemcpy(DevicePointers.at(deviceAddress), host, bytes, cudart.cudaMemcpyHostToDevice), context);
    }

    @Override
    public void copyToHost(Pointer host, long deviceAddress, long bytes, String context) {
        bind();
        CudaStatus.check("cudaMemcpy",
                cudart.cudaMemcpy(host, DevicePointers.at(deviceAddress), bytes, cudart.cudaMemcpyDeviceToHost), context);
    }

    @Override
    public long mallocPinned(long bytes) {
        bind();
        Pointer out = new Pointer();
        int status = cudart.cudaMallocHost(out, bytes);
        if (status == cudart.cudaErrorMemoryAllocation) {
            cudart.cudaGetLastError();  // the caller falls back to pageable copies
            return 0;
        }
        CudaStatus.check("cudaMallocHost", status, "allocating " + bytes + " bytes of pinned host memory");
        return out.address();
    }

    @Override
    public void freePinned(long address) {
        bind();
        CudaStatus.check("cudaFreeHost", cudart.cudaFreeHost(DevicePointers.at(address)), "pinned host memory");
    }

    /** Queues a host-to-device copy from pinned memory on the default stream. */
    @Override
    public void copyToDeviceAsync(long deviceAddress, long pinnedHost, long bytes, String context) {
        bind();
        CudaStatus.check("cudaMemcpyAsync", cudart.cudaMemcpyAsync(DevicePointers.at(deviceAddress),
                DevicePointers.at(pinnedHost), bytes, cudart.cudaMemcpyHostToDevice), context);
    }

    @Override
    public long createEvent() {
        bind();
        CUevent_st event = new CUevent_st();
        CudaStatus.check("cudaEventCreateWithFlags",
                cudart.cudaEventCreateWithFlags(event, cudart.cudaEventDisableTiming), "creating an event");
        return event.address();
    }

    @Override
    public void recordEvent(long event) {
        bind();
        CudaStatus.check("cudaEventRecord", cudart.cudaEventRecord(eventAt(event)), "recording an event");
    }

    @Override
    public void awaitEvent(long event) {
        bind();
        CudaStatus.check("cudaEventSynchronize", cudart.cudaEventSynchronize(eventAt(event)), "waiting for an event");
    }

    @Override
    public void destroyEvent(long event) {
        bind();
        CudaStatus.check("cudaEventDestroy", cudart.cudaEventDestroy(eventAt(event)), "destroying an event");
    }

    private static CUevent_st eventAt(long handle) {
        return new CUevent_st(DevicePointers.at(handle));
    }

    /** Queues a device-to-device copy on the default stream. */
    @Override
    public void copyOnDevice(long dst, long src, long bytes, String context) {
        bind();
        CudaStatus.check("cudaMemcpyAsync", cudart.cudaMemcpyAsync(DevicePointers.at(dst), DevicePointers.at(src),
                bytes, cudart.cudaMemcpyDeviceToDevice), context);
    }

    /** Queues a byte fill on the default stream. */
    @Override
    public void memset(long dst, int value, long bytes, String context) {
        bind();
        CudaStatus.check("cudaMemsetAsync", cudart.cudaMemsetAsync(DevicePointers.at(dst), value, bytes), context);
    }

    @Override
    public void synchronize(String context) {
        bind();
        CudaStatus.check("cudaDeviceSynchronize", cudart.cudaDeviceSynchronize(), context);
    }

    @Override
    public void close() {
        if (!cudnnHandle.isNull()) cudnn.cudnnDestroy(cudnnHandle);
        if (!cublasHandle.isNull()) cublas.cublasDestroy_v2(cublasHandle);
    }
}
