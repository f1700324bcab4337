package dev.kiln.bench.jmh;

import dev.kiln.backend.Backend;
import dev.kiln.backend.reference.ReferenceBackend;
import dev.kiln.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Training-mode batch norm on ResNet50's activation shapes ("C_H": channels, square size), plain and fused with the
 * residual add and ReLU that end a block.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class BatchNormBench {
    @Param({"64_112", "256_56", "512_28", "1024_14", "2048_7"})
    public String activation;

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"2"})
    public int batch;

    private Backend b;
    private Tensor x, residual, y, dy, dx, gamma, beta, runningMean, runningVar, mean, invStd, dgamma, dbeta;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = ConvBench.parse(activation);
        int c = p[0], h = p[1];
        b = BenchData.backend(backend);
        if (!(b instanceof ReferenceBackend)) checkAgainstReference(c, h);
        x = BenchData.random(b, 1, batch, c, h, h);
        residual = BenchData.random(b, 2, batch, c, h, h);
        dy = BenchData.random(b, 3, batch, c, h, h);
        y = BenchData.empty(b, batch, c, h, h);
        dx = BenchData.empty(b, batch, c, h, h);
        gamma = BenchData.random(b, 4, c);
        beta = BenchData.random(b, 5, c);
        runningMean = BenchData.random(b, 6, c);
        runningVar = BenchData.tensor(b, positive(c), c);
        mean = BenchData.empty(b, c);
        invStd = BenchData.empty(b, c);
        dgamma = BenchData.empty(b, c);
        dbeta = BenchData.empty(b, c);
        b.batchNormReluForwardTraining(x, gamma, beta, residual, y, runningMean, runningVar, 0.1, 1e-5, mean, invStd);
    }

    private static float[] positive(int c) {
        float[] v = BenchData.normal(7, c);
        for (int i = 0; i < c; i++) v[i] = Math.abs(v[i]) + 0.5f;
        return v;
    }

    /** Fused forward and backward at batch 2 on both backends. */
    private void checkAgainstReference(int c, int h) {
        Backend ref = ReferenceBackend.get();
        Tensor[] xs = BenchData.pair(b, ref, 11, 2, c, h, h), rs = BenchData.pair(b, ref, 12, 2, c, h, h);
        Tensor[] dys = BenchData.pair(b, ref, 13, 2, c, h, h), gs = BenchData.pair(b, ref, 14, c);
        Tensor[] bs = BenchData.pair(b, ref, 15, c);
        Tensor zf = BenchData.empty(b, 2, c, h, h), zr = BenchData.empty(ref, 2, c, h, h);
        Tensor mf = BenchData.empty(b, c), mr = BenchData.empty(ref, c), sf = BenchData.empty(b, c);
        Tensor sr = BenchData.empty(ref, c);
        b.batchNormReluForwardTraining(xs[0], gs[0], bs[0], rs[0], zf, null, null, 0.1, 1e-5, mf, sf);
        ref.batchNormReluForwardTraining(xs[1], gs[1], bs[1], rs[1], zr, null, null, 0.1, 1e-5, mr, sr);
        BenchData.requireClose("batch norm + residual + relu " + activation, zr, zf, 1e-5);
        Tensor dxf = BenchData.empty(b, 2, c, h, h), dxr = BenchData.empty(ref, 2, c, h, h);
        b.batchNormReluBackward(xs[0], zf, dys[0], gs[0], mf, sf, dxf, null, null, null);
        ref.batchNormReluBackward(xs[1], zr, dys[1], gs[1], mr, sr, dxr, null, null, null);
        BenchData.requireClose("batch norm relu backward " + activation, dxr, dxf, 1e-4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, residual, y, dy, dx, gamma, beta, runningMean, runningVar, mean, invStd,
                dgamma, dbeta}) {
            t.close();
        }
    }

    @Benchmark
    public Tensor forwardTraining() {
        b.batchNormForwardTraining(x, gamma, beta, y, runningMean, runningVar, 0.1, 1e-5, mean, invStd);
        return y;
    }

    @Benchmark
    public Tensor forwardTrainingAddRelu() {
        b.batchNormReluForwardTraining(x, gamma, beta, residual, y, runningMean, runningVar, 0.1, 1e-5, mean, invStd);
        return y;
    }

    @Benchmark
    public Tensor backward() {
        b.batchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        return dx;
    }

    @Benchmark
    public Tensor backwardRelu() {
        b.batchNormReluBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta, residual);
        return dx;
    }

    @Benchmark
    public Tensor forwardInference() {
        b.batchNormForwardInference(x, gamma, beta, runningMean, runningVar, 1e-5, y);
        return y;
    }
}
