package dev.kiln.bench.jmh;

import dev.kiln.backend.AdamConfig;
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
 * One Adam step (torch.optim.Adam defaults) over parameter tensors of ResNet50's sizes: the fc weight
 * (2048·1000), a layer4 3×3 conv (512·512·9), and all of ResNet50 in one tensor (25.6M, the whole-model update).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class OptimizerBench {
    @Param({"2048000", "2359296", "25557032"})
    public int size;

    @Param({"cpu", "reference"})
    public String backend;

    private Backend b;
    private Tensor p, g, m, v;
    private long step;

    @Setup(Level.Trial)
    public void setUp() {
        b = BenchData.backend(backend);
        if (!(b instanceof ReferenceBackend)) checkAgainstReference();
        p = BenchData.random(b, 1, size);
        g = BenchData.random(b, 2, size);
        m = BenchData.empty(b, size);
        v = BenchData.empty(b, size);
        b.fill(m, 0);
        b.fill(v, 0);
    }

    /** Three steps on 10 000 elements through both backends. */
    private void checkAgainstReference() {
        Backend ref = ReferenceBackend.get();
        int n = 10_000;
        Tensor[] ps = BenchData.pair(b, ref, 11, n), gs = BenchData.pair(b, ref, 12, n);
        Tensor[] ms = {BenchData.empty(b, n), BenchData.empty(ref, n)}, vs = {BenchData.empty(b, n), BenchData.empty(ref, n)};
        for (int i = 0; i < 2; i++) {
            (i == 0 ? b : ref).fill(ms[i], 0);
            (i == 0 ? b : ref).fill(vs[i], 0);
        }
        for (int t = 1; t <= 3; t++) {
            AdamConfig cfg = new AdamConfig(1e-3, 0.9, 0.999, 1e-8, 0, false, t);
            b.adamStep(ps[0], gs[0], ms[0], vs[0], cfg);
            ref.adamStep(ps[1], gs[1], ms[1], vs[1], cfg);
        }
        BenchData.requireClose("adam parameters", ps[1], ps[0], 1e-6);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{p, g, m, v}) t.close();
    }

    @Benchmark
    public Tensor adam() {
        b.adamStep(p, g, m, v, new AdamConfig(1e-3, 0.9, 0.999, 1e-8, 0, false, ++step));
        return p;
    }
}
