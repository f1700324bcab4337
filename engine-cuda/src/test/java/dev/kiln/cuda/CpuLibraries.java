package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.util.function.Consumer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.CudaTensors.requireContiguous;
import static dev.kiln.cuda.CudaTensors.requireF32;

/**
 * {@link VendorLibraries} computed by the CPU backend, for {@link CudaBackend} on a {@link HostDevice}. It stands in
 * for cuDNN and cuBLAS, which need a GPU, so that the rest of the CUDA backend can be tested without one. Each
 * call checks at once what the real call assumes (F32, contiguous, inside live device memory), then queues its
 * work on the device's stream like a library call: when it runs, it copies its inputs out of device memory into
 * CPU tensors, runs the CPU backend's op of the same contract, and copies the outputs back.
 */
final class CpuLibraries implements VendorLibraries {
    private final Backend cpu = Backends.get("cpu");
    private final HostDevice device;

    CpuLibraries(HostDevice device) {
        this.device = device;
    }

    /**
     * Where a device tensor's data is, taken at the call: like cuDNN, the queued work gets raw addresses, because
     * the tensor object may be closed (its block back in the allocator's cache) before the work runs.
     */
    private record Buffer(long address, int[] dims) {
    }

    /** Checks {@code t} as the real call would (F32, contiguous, inside live device memory); null stays null. */
    private Buffer buffer(String op, Tensor t) {
        if (t == null) return null;
        requireContiguous(op, t);
        requireF32(op, t);
        device.requireAllocated(address(t), t.numel() * Float.BYTES, op + " " + t.shape());
        return new Buffer(address(t), t.shape().toArray());
    }

    /** Queues {@code work} behind earlier work, with a scope for the CPU tensors it makes. */
    private void queue(String op, Runnable work) {
        device.enqueue(op, () -> {
            try (MemoryScope staging = MemoryScope.open()) {
                work.run();
            }
        });
    }

    /** A CPU copy of device data (null stays null). */
    private Tensor in(Buffer b) {
        if (b == null) return null;
        float[] data = new float[Math.toIntExact(Shape.of(b.dims()).numel())];
        new FloatPointer(DevicePointers.at(b.address())).get(data);
        return Tensor.of(cpu, data, b.dims());
    }

    /** A CPU tensor for an output whose old contents do not matter (null stays null). */
    private Tensor outputLike(Buffer b) {
        return b == null ? null : Tensor.zeros(cpu, DType.F32, Shape.of(b.dims()));
    }

    /** Writes a CPU result back into device memory. */
    private static void back(Tensor cpuResult, Buffer b) {
        if (b == null) return;
        new FloatPointer(DevicePointers.at(b.address())).put(cpuResult.toFloatArray());
    }

    /** Queues an op with one output: {@code into} computes into a CPU tensor shaped like {@code out}. */
    private void queueInto(String op, Buffer out, Consumer<Tensor> into) {
        queue(op, () -> {
            Tensor result = outputLike(out);
            into.accept(result);
            back(result, out);
        });
    }

    @Override
    public void convolutionForward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec) {
        String op = "conv2dForward";
        Buffer xb = buffer(op, x), wb = buffer(op, w);
        queueInto(op, buffer(op, y), out -> cpu.conv2dForward(in(xb), in(wb), null, out, spec));
    }

    @Override
    public void convolutionBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        String op = "conv2dBackwardData";
        Buffer dyb = buffer(op, dy), wb = buffer(op, w);
        queueInto(op, buffer(op, dx), out -> cpu.conv2dBackwardData(in(dyb), in(wb), out, spec));
    }

    @Override
    public void convolutionBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        String op = "conv2dBackwardFilter";
        Buffer xb = buffer(op, x), dyb = buffer(op, dy);
        queueInto(op, buffer(op, dw), out -> cpu.conv2dBackwardFilter(in(xb), in(dyb), out, spec));
    }

    @Override
    public int convolutionAlgorithmsChosen() {
        return 0;  // no algorithm search off the GPU
    }

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        String op = "batchNormForwardTraining";
        Buffer xb = buffer(op, x), gb = buffer(op, gamma), bb = buffer(op, beta), yb = buffer(op, y);
        Buffer rmb = buffer(op, runningMean), rvb = buffer(op, runningVar);
        Buffer smb = buffer(op, saveMean), sib = buffer(op, saveInvStd);
        queue(op, () -> {
            Tensor out = outputLike(yb), rm = in(rmb), rv = in(rvb), sm = outputLike(smb), si = outputLike(sib);
            cpu.batchNormForwardTraining(in(xb), in(gb), in(bb), out, rm, rv, momentum, eps, sm, si);
            back(out, yb);
            back(rm, rmb);
            back(rv, rvb);
            back(sm, smb);
            back(si, sib);
        });
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        String op = "batchNormForwardInference";
        Buffer xb = buffer(op, x), gb = buffer(op, gamma), bb = buffer(op, beta), mb = buffer(op, mean);
        Buffer vb = buffer(op, var);
        queueInto(op, buffer(op, y),
                out -> cpu.batchNormForwardInference(in(xb), in(gb), in(bb), in(mb), in(vb), eps, out));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        Buffer xb = buffer(op, x), dyb = buffer(op, dy), gb = buffer(op, gamma), smb = buffer(op, saveMean);
        Buffer sib = buffer(op, saveInvStd), dxb = buffer(op, dx), dgb = buffer(op, dgamma), dbb = buffer(op, dbeta);
        queue(op, () -> {
            Tensor dxOut = outputLike(dxb), dgOut = outputLike(dgb), dbOut = outputLike(dbb);
            cpu.batchNormBackward(in(xb), in(dyb), in(gb), in(smb), in(sib), dxOut, dgOut, dbOut);
            back(dxOut, dxb);
            back(dgOut, dgb);
            back(dbOut, dbb);
        });
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        Buffer xb = buffer("reluForward", x);
        queueInto("reluForward", buffer("reluForward", y), out -> cpu.reluForward(in(xb), out));
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Buffer xb = buffer("softmax", x);
        queueInto("softmax", buffer("softmax", y), out -> cpu.softmax(in(xb), out));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        String op = "softmaxBackward";
        Buffer yb = buffer(op, y), dyb = buffer(op, dy);
        queueInto(op, buffer(op, dx), out -> cpu.softmaxBackward(in(yb), in(dyb), out));
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        Buffer ab = buffer("gemm", a), bb = buffer("gemm", b), cb = buffer("gemm", c);
        queue("gemm", () -> {
            Tensor out = in(cb);  // beta * c enters the result
            cpu.gemm(transA, transB, alpha, in(ab), in(bb), beta, out);
            back(out, cb);
        });
    }
}
