package dev.kiln.bench.jmh;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Pool2dSpec;
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
 * ResNet50's stem max pool (3×3, stride 2, padding 1) forward and backward, and the elementwise kernels (ReLU and
 * its gradient, add, axpy) on an activation shape ("C_H").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class PoolingElementwiseBench {
    private static final Pool2dSpec STEM_POOL = new Pool2dSpec(3, 2, 1, false);

    @Param({"64_112", "256_56"})
    public String activation;

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"2"})
    public int batch;

    private Backend b;
    private Tensor x, y, dy, dx, pooled, dpooled;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = ConvBench.parse(activation);
        int c = p[0], h = p[1], out = STEM_POOL.outSize(h);
        b = BenchData.backend(backend);
        if (!(b instanceof ReferenceBackend)) checkAgainstReference(c, h, out);
        x = BenchData.random(b, 1, batch, c, h, h);
        dy = BenchData.random(b, 2, batch, c, h, h);
        y = BenchData.empty(b, batch, c, h, h);
        dx = BenchData.empty(b, batch, c, h, h);
        pooled = BenchData.empty(b, batch, c, out, out);
        dpooled = BenchData.random(b, 3, batch, c, out, out);
        b.maxPool2dForward(x, pooled, STEM_POOL);
        b.reluForward(x, y);
    }

    private void checkAgainstReference(int c, int h, int out) {
        Backend ref = ReferenceBackend.get();
        Tensor[] xs = BenchData.pair(b, ref, 11, 1, c, h, h), gs = BenchData.pair(b, ref, 12, 1, c, out, out);
        Tensor pf = BenchData.empty(b, 1, c, out, out), pr = BenchData.empty(ref, 1, c, out, out);
        b.maxPool2dForward(xs[0], pf, STEM_POOL);
        ref.maxPool2dForward(xs[1], pr, STEM_POOL);
        BenchData.requireClose("max pool forward " + activation, pr, pf, 0);
        Tensor df = BenchData.empty(b, 1, c, h, h), dr = BenchData.empty(ref, 1, c, h, h);
        b.maxPool2dBackward(xs[0], pf, gs[0], df, STEM_POOL);
        ref.maxPool2dBackward(xs[1], pr, gs[1], dr, STEM_POOL);
        BenchData.requireClose("max pool backward " + activation, dr, df, 1e-6);
        Tensor rf = BenchData.empty(b, 1, c, h, h), rr = BenchData.empty(ref, 1, c, h, h);
        b.reluForward(xs[0], rf);
        ref.reluForward(xs[1], rr);
        BenchData.requireClose("relu " + activation, rr, rf, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, y, dy, dx, pooled, dpooled}) t.close();
    }

    @Benchmark
    public Tensor maxPoolForward() {
        b.maxPool2dForward(x, pooled, STEM_POOL);
        return pooled;
    }

    @Benchmark
    public Tensor maxPoolBackward() {
        b.maxPool2dBackward(x, pooled, dpooled, dx, STEM_POOL);
        return dx;
    }

    @Benchmark
    public Tensor reluForward() {
        b.reluForward(x, y);
        return y;
    }

    @Benchmark
    public Tensor reluBackward() {
        b.reluBackward(y, dy, dx);
        return dx;
    }

    @Benchmark
    public Tensor add() {
        b.add(x, dy, dx);
        return dx;
    }

    @Benchmark
    public Tensor axpy() {
        b.axpy(0.5, x, dx);
        return dx;
    }
}
