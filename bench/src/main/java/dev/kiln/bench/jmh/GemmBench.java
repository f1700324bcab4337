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
 * Dense layers as the Linear op runs them: forward y = x Wᵀ and the weight gradient dW = dyᵀ x. {@code dense} is
 * "N_in_out": ResNet50's fc at batch 16 and 256 (the yardstick's linear kernel), and the transfer-learning head's
 * 100352 → 1024 layer (reference: batch 1 only, a few seconds per call).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class GemmBench {
    @Param({"16_2048_1000", "256_2048_1000", "16_100352_1024"})
    public String dense;

    @Param({"cpu", "reference"})
    public String backend;

    private Backend b;
    private Tensor x, w, y, dy, dw;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = ConvBench.parse(dense);
        int n = p[0], in = p[1], out = p[2];
        b = BenchData.backend(backend);
        if (!(b instanceof ReferenceBackend)) checkAgainstReference(in, out);
        x = BenchData.random(b, 1, n, in);
        w = BenchData.random(b, 2, out, in);
        dy = BenchData.random(b, 3, n, out);
        y = BenchData.empty(b, n, out);
        dw = BenchData.empty(b, out, in);
    }

    /** Two rows through both backends. */
    private void checkAgainstReference(int in, int out) {
        Backend ref = ReferenceBackend.get();
        Tensor[] xs = BenchData.pair(b, ref, 11, 2, in), ws = BenchData.pair(b, ref, 12, out, in);
        Tensor yf = BenchData.empty(b, 2, out), yr = BenchData.empty(ref, 2, out);
        b.gemm(false, true, 1, xs[0], ws[0], 0, yf);
        ref.gemm(false, true, 1, xs[1], ws[1], 0, yr);
        BenchData.requireClose("linear forward " + dense, yr, yf, 1e-4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, w, y, dy, dw}) t.close();
    }

    @Benchmark
    public Tensor forward() {
        b.gemm(false, true, 1, x, w, 0, y);
        return y;
    }

    @Benchmark
    public Tensor weightGradient() {
        b.gemm(true, false, 1, dy, x, 0, dw);
        return dw;
    }
}
