package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.util.function.Consumer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.CudaTensors.requireContiguous;
import static dev.kiln.cuda.CudaTensors.requireF32;

/**
 * {@link VendorLibraries} computed by the CPU backend, for {@link CudaBackend} on {@link HostMemory}: each call
 * copies its inputs out of the emulated device memory into CPU tensors, runs the CPU backend's op of the same
 * contract, and copies the outputs back. It stands in for cuDNN and cuBLAS, which need a GPU, so that the rest of
 * the CUDA backend can be tested without one; it checks what the real calls assume, F32 and contiguous tensors.
 */
final class CpuLibraries implements VendorLibraries {
    private final Backend cpu = Backends.get("cpu");
    private final HostMemory memory;

    CpuLibraries(HostMemory memory) {
        this.memory = memory;
    }

    /** A CPU copy of an emulated-device tensor (null stays null). */
    private Tensor in(String op, Tensor t) {
        if (t == null) return null;
        requireContiguous(op, t);
        requireF32(op, t);
        memory.runQueued();  // work queued before this call comes first, as on one stream
        float[] data = new float[Math.toIntExact(t.numel())];
        new FloatPointer(DevicePointers.at(address(t))).get(data);
        return Tensor.of(cpu, data, t.shape().toArray());
    }

    /** A CPU tensor for an output whose old contents do not matter. */
    private Tensor outputFor(String op, Tensor t) {
        if (t == null) return null;
        requireContiguous(op, t);
        requireF32(op, t);
        return Tensor.zeros(cpu, t.dtype(), t.shape());
    }

    /** Writes a CPU result back into the emulated-device tensor. */
    private void back(Tensor cpuResult, Tensor device) {
        if (device == null) return;
        memory.runQueued();
        new FloatPointer(DevicePointers.at(address(device))).put(cpuResult.toFloatArray());
    }

    /** Runs {@code op} on a CPU tensor shaped like {@code deviceOut} and writes the result back there. */
    private void compute(String opName, Tensor deviceOut, Consumer<Tensor> op) {
        try (MemoryScope staging = MemoryScope.open()) {
            Tensor out = outputFor(opName, deviceOut);
            op.accept(out);
            back(out, deviceOut);
        }
    }

    @Override
    public void convolutionForward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec) {
        String op = "conv2dForward";
        compute(op, y, out -> cpu.conv2dForward(in(op, x), in(op, w), null, out, spec));
    }

    @Override
    public void convolutionBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        String op = "conv2dBackwardData";
        compute(op, dx, out -> cpu.conv2dBackwardData(in(op, dy), in(op, w), out, spec));
    }

    @Override
    public void convolutionBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        String op = "conv2dBackwardFilter";
        compute(op, dw, out -> cpu.conv2dBackwardFilter(in(op, x), in(op, dy), out, spec));
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
        try (MemoryScope staging = MemoryScope.open()) {
            Tensor out = outputFor(op, y), rm = in(op, runningMean), rv = in(op, runningVar);
            Tensor sm = outputFor(op, saveMean), si = outputFor(op, saveInvStd);
            cpu.batchNormForwardTraining(in(op, x), in(op, gamma), in(op, beta), out, rm, rv, momentum, eps, sm, si);
            back(out, y);
            back(rm, runningMean);
            back(rv, runningVar);
            back(sm, saveMean);
            back(si, saveInvStd);
        }
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        String op = "batchNormForwardInference";
        compute(op, y, out -> cpu.batchNormForwardInference(in(op, x), in(op, gamma), in(op, beta), in(op, mean),
                in(op, var), eps, out));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        try (MemoryScope staging = MemoryScope.open()) {
            Tensor dxOut = outputFor(op, dx), dgOut = outputFor(op, dgamma), dbOut = outputFor(op, dbeta);
            cpu.batchNormBackward(in(op, x), in(op, dy), in(op, gamma), in(op, saveMean), in(op, saveInvStd), dxOut,
                    dgOut, dbOut);
            back(dxOut, dx);
            back(dgOut, dgamma);
            back(dbOut, dbeta);
        }
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        compute("reluForward", y, out -> cpu.reluForward(in("reluForward", x), out));
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        compute("softmax", y, out -> cpu.softmax(in("softmax", x), out));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        String op = "softmaxBackward";
        compute(op, dx, out -> cpu.softmaxBackward(in(op, y), in(op, dy), out));
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        try (MemoryScope staging = MemoryScope.open()) {
            Tensor out = in("gemm", c);  // beta * c enters the result
            cpu.gemm(transA, transB, alpha, in("gemm", a), in("gemm", b), beta, out);
            back(out, c);
        }
    }
}
