package dev.kiln.bench.jmh;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
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
 * conv2d forward, backward-data and backward-filter on ResNet50's layer shapes, and the forward fused with an
 * inference-mode batch norm and ReLU ({@code forwardBatchNormRelu}, a frozen block's path). {@code layer} is
 * "C_H_K_R_stride_pad" (input channels, square input size, filters, square kernel, stride, padding).
 * The reference backend is plain Java in double: keep it to batch 1 (the default).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class ConvBench {
    @Param({"3_224_64_7_2_3", "64_56_64_3_1_1", "64_56_256_1_1_0", "256_56_512_1_2_0", "128_56_128_3_2_1",
            "256_14_256_3_1_1", "1024_14_256_1_1_0", "512_7_512_3_1_1"})
    public String layer;

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"1"})
    public int batch;

    private Backend b;
    private Conv2dSpec spec;
    private Tensor x, w, y, dy, dx, dw;
    private InferenceBatchNorm bn;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = parse(layer);
        int c = p[0], h = p[1], k = p[2], r = p[3];
        spec = Conv2dSpec.of(p[4], p[5]);
        int out = spec.outH(h, r);
        b = BenchData.backend(backend);
        checkAgainstReference(c, h, k, r, out);
        x = BenchData.random(b, 1, batch, c, h, h);
        w = BenchData.random(b, 2, k, c, r, r);
        dy = BenchData.random(b, 3, batch, k, out, out);
        y = BenchData.empty(b, batch, k, out, out);
        dx = BenchData.empty(b, batch, c, h, h);
        dw = BenchData.empty(b, k, c, r, r);
        bn = batchNorm(b, k);
    }

    /** A batch norm with fixed, non-trivial statistics (variance in [0.5, 1.5)). */
    private static InferenceBatchNorm batchNorm(Backend b, int k) {
        float[] var = new float[k];
        for (int i = 0; i < k; i++) var[i] = 0.5f + (float) i / k;
        return new InferenceBatchNorm(BenchData.random(b, 21, k), BenchData.random(b, 22, k),
                BenchData.random(b, 23, k), BenchData.tensor(b, var, k), 1e-5);
    }

    /** One image through both backends, all three kernels. */
    private void checkAgainstReference(int c, int h, int k, int r, int out) {
        if (b instanceof ReferenceBackend) return;
        Backend ref = ReferenceBackend.get();
        Tensor[] xs = BenchData.pair(b, ref, 11, 1, c, h, h), ws = BenchData.pair(b, ref, 12, k, c, r, r);
        Tensor[] dys = BenchData.pair(b, ref, 13, 1, k, out, out);
        Tensor yf = BenchData.empty(b, 1, k, out, out), yr = BenchData.empty(ref, 1, k, out, out);
        b.conv2dForward(xs[0], ws[0], null, yf, spec);
        ref.conv2dForward(xs[1], ws[1], null, yr, spec);
        BenchData.requireClose("conv forward " + layer, yr, yf, 1e-4);
        Tensor dxf = BenchData.empty(b, 1, c, h, h), dxr = BenchData.empty(ref, 1, c, h, h);
        b.conv2dBackwardData(dys[0], ws[0], dxf, spec);
        ref.conv2dBackwardData(dys[1], ws[1], dxr, spec);
        BenchData.requireClose("conv backward data " + layer, dxr, dxf, 1e-4);
        Tensor dwf = BenchData.empty(b, k, c, r, r), dwr = BenchData.empty(ref, k, c, r, r);
        b.conv2dBackwardFilter(xs[0], dys[0], dwf, spec);
        ref.conv2dBackwardFilter(xs[1], dys[1], dwr, spec);
        BenchData.requireClose("conv backward filter " + layer, dwr, dwf, 1e-4);
        InferenceBatchNorm bnf = batchNorm(b, k), bnr = batchNorm(ref, k);
        b.conv2dBatchNormForward(xs[0], ws[0], null, spec, bnf, null, true, yf);
        ref.conv2dBatchNormForward(xs[1], ws[1], null, spec, bnr, null, true, yr);
        BenchData.requireClose("conv + batch norm + relu forward " + layer, yr, yf, 1e-4);
        for (Tensor t : new Tensor[]{xs[0], xs[1], ws[0], ws[1], dys[0], dys[1], yf, yr, dxf, dxr, dwf, dwr}) {
            t.close();
        }
        close(bnf);
        close(bnr);
    }

    static int[] parse(String csv) {
        String[] parts = csv.split("_");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Integer.parseInt(parts[i].trim());
        return v;
    }

    private static void close(InferenceBatchNorm bn) {
        for (Tensor t : new Tensor[]{bn.gamma(), bn.beta(), bn.mean(), bn.var()}) t.close();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, w, y, dy, dx, dw}) t.close();
        close(bn);
    }

    @Benchmark
    public Tensor forward() {
        b.conv2dForward(x, w, null, y, spec);
        return y;
    }

    @Benchmark
    public Tensor forwardBatchNormRelu() {
        b.conv2dBatchNormForward(x, w, null, spec, bn, null, true, y);
        return y;
    }

    @Benchmark
    public Tensor backwardData() {
        b.conv2dBackwardData(dy, w, dx, spec);
        return dx;
    }

    @Benchmark
    public Tensor backwardFilter() {
        b.conv2dBackwardFilter(x, dy, dw, spec);
        return dw;
    }
}
