package dev.kiln.bench;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Times every distinct convolution of ResNet50 (torchvision v1.5 geometry) forward, backward-data and
 * backward-filter at one batch size, and prints GFLOP/s per layer and the time each family costs in one step
 * (each shape weighted by how many times the network uses it). A quicker per-layer view than JMH; correctness is
 * the conformance tests' and ConvBench's job.
 *
 * <pre>
 * env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.kiln.bench.ConvSweep [--batch 16] [--reps 3] [--device cpu] [--only C_H_K_R_stride_pad]
 * </pre>
 */
public final class ConvSweep {
    private record Layer(int c, int h, int k, int r, int stride, int pad) {
        String name() {
            return c + "_" + h + "_" + k + "_" + r + "_" + stride + "_" + pad;
        }
    }

    private ConvSweep() {
    }

    /** Distinct shapes with their use counts. */
    static Map<Layer, Integer> resnet50() {
        Map<Layer, Integer> m = new LinkedHashMap<>();
        m.merge(new Layer(3, 224, 64, 7, 2, 3), 1, Integer::sum);
        int[] blocks = {3, 4, 6, 3}, planes = {64, 128, 256, 512};
        int channels = 64, size = 56;
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < blocks[s]; b++) {
                int stride = (b == 0 && s > 0) ? 2 : 1, p = planes[s];
                m.merge(new Layer(channels, size, p, 1, 1, 0), 1, Integer::sum);
                m.merge(new Layer(p, size, p, 3, stride, 1), 1, Integer::sum);
                int out = size / stride;
                m.merge(new Layer(p, out, 4 * p, 1, 1, 0), 1, Integer::sum);
                if (b == 0) m.merge(new Layer(channels, size, 4 * p, 1, stride, 0), 1, Integer::sum);
                channels = 4 * p;
                size = out;
            }
        }
        return m;
    }

    public static void main(String[] args) {
        int batch = 16, reps = 3;
        String device = "cpu", only = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--reps" -> reps = Integer.parseInt(args[i + 1]);
                case "--device" -> device = args[i + 1];
                case "--only" -> only = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend b = Backends.get(device);
        double[] family = new double[3];
        System.out.printf("%-22s %4s %9s %9s %9s   (GFLOP/s; ms per call)%n", "layer C_H_K_R_s_p", "uses",
                "fwd", "bwdData", "bwdFilt");
        for (var e : resnet50().entrySet()) {
            Layer l = e.getKey();
            if (only != null && !only.equals(l.name())) continue;
            Conv2dSpec spec = Conv2dSpec.of(l.stride(), l.pad());
            int out = spec.outH(l.h(), l.r());
            double flops = 2.0 * batch * l.k() * l.c() * l.r() * l.r() * out * out;
            Tensor x = random(b, 1, batch, l.c(), l.h(), l.h()), w = random(b, 2, l.k(), l.c(), l.r(), l.r());
            Tensor dy = random(b, 3, batch, l.k(), out, out);
            Tensor y = empty(b, batch, l.k(), out, out), dx = empty(b, batch, l.c(), l.h(), l.h());
            Tensor dw = empty(b, l.k(), l.c(), l.r(), l.r());
            double[] ms = {
                    time(reps, () -> b.conv2dForward(x, w, null, y, spec)),
                    time(reps, () -> b.conv2dBackwardData(dy, w, dx, spec)),
                    time(reps, () -> b.conv2dBackwardFilter(x, dy, dw, spec))};
            StringBuilder line = new StringBuilder(String.format("%-22s %4d", l.name(), e.getValue()));
            for (double t : ms) line.append(String.format(" %9.0f", flops / t / 1e6));
            line.append(String.format("   %7.1f %7.1f %7.1f", ms[0], ms[1], ms[2]));
            System.out.println(line);
            for (int f = 0; f < 3; f++) family[f] += ms[f] * e.getValue();
            for (Tensor t : List.of(x, w, dy, y, dx, dw)) t.close();
        }
        System.out.printf("per step (ms): fwd %.0f, bwdData %.0f, bwdFilter %.0f, total %.0f%n",
                family[0], family[1], family[2], Arrays.stream(family).sum());
    }

    /** Fastest of {@code reps} calls after one untimed call: the machine is shared, the minimum is the least noisy. */
    private static double time(int reps, Runnable r) {
        r.run();
        List<Double> t = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t.add((System.nanoTime() - t0) / 1e6);
        }
        t.sort(null);
        return t.get(0);
    }

    private static Tensor random(Backend b, long seed, int... dims) {
        Random random = new Random(seed);
        float[] v = new float[(int) Shape.of(dims).numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextGaussian();
        return Tensor.of(b, v, dims);
    }

    private static Tensor empty(Backend b, int... dims) {
        return Tensor.empty(b, DType.F32, Shape.of(dims));
    }
}
