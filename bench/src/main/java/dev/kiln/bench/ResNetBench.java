package dev.kiln.bench;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import dev.kiln.backend.cpu.CpuBackend;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * ResNet50 end to end, the cases of {@code ../shared/anchors/bench_torch_resnet50.py}, so that Kiln and PyTorch
 * can be compared on the same cores:
 *
 * <pre>
 * env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.kiln.bench.ResNetBench --case train,frozen --batch 16 --threads 2 --profile
 * </pre>
 *
 * Each case builds its model (random init), runs {@code --warmup} untimed steps, then {@code --steps} timed ones,
 * and reports the median step. Peak RSS is reset between cases, so each case's figure is its own.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times ResNet50 inference and training steps on a Kiln backend.")
public final class ResNetBench implements Callable<Integer> {

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--case", split = ",", defaultValue = "inference,train,frozen,unfreeze-layer4",
            description = "inference, train, frozen, unfreeze-layer4 (repeatable or a comma list; default: all)")
    private List<String> cases;

    @Option(names = "--batch", defaultValue = "16", description = "images per step (default: ${DEFAULT-VALUE})")
    private int batch;

    @Option(names = "--threads", description = "CPU threads for OpenBLAS and Java loops (default: all cores)")
    private Integer threads;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps (default: ${DEFAULT-VALUE})")
    private int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first (default: ${DEFAULT-VALUE})")
    private int warmup;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--json", description = "print one JSON object per case on stdout (text goes to stderr)")
    private boolean json;

    @Option(names = "--profile", description = "time each kernel family (wraps the backend in a timer)")
    private boolean profile;

    public static void main(String[] args) {
        // Tensors live off-heap and are freed deterministically: JavaCPP's default cap (the heap size) and its
        // physical-memory check (which calls System.gc()) only get in the way. Must precede JavaCPP's loading.
        if (System.getProperty("org.bytedeco.javacpp.maxBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxBytes", "0");
        }
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
        System.exit(new CommandLine(new ResNetBench()).execute(args));
    }

    @Override
    public Integer call() {
        if (batch < 1 || steps < 1 || warmup < 0) throw new IllegalArgumentException("--batch and --steps must be >= 1");
        // Read once by the CPU backend when it loads: set it before anything touches a backend.
        if (threads != null) System.setProperty("kiln.threads", Integer.toString(threads));
        PrintStream text = json ? System.err : System.out;
        Set<BenchCase> selected = new LinkedHashSet<>();
        for (String c : cases) selected.add(BenchCase.parse(c));

        Backend backend;
        try {
            backend = Backends.get(device);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--device " + device + ": " + e.getMessage());
        }
        ProfilingBackend profiler = profile ? new ProfilingBackend(backend) : null;
        if (profiler != null && !profiler.seesEveryKernel()) {
            text.println("note: --profile sees every kernel on the cpu backend only; " + backend.name()
                    + " kernels go uncounted");
        }
        Backend used = profiler != null ? profiler : backend;
        Backends.setDefaultBackend(used); // models initialize their weights on the default backend
        int threadCount = backend instanceof CpuBackend cpu ? cpu.threads() : 0;
        text.printf("Kiln ResNetBench: device %s, threads %s, batch %d, %d warm-up + %d timed steps, env %s%n",
                backend.name(), threadCount == 0 ? "-" : threadCount, batch, warmup, steps, blasEnvironment());

        for (BenchCase c : selected) {
            CaseResult r = run(c, backend, used, profiler, threadCount);
            text.print(r.toText());
            if (profiler != null) {
                profiler.nanosByKernel().forEach((k, ns) -> text.printf("      %-30s %9.1f ms/step%n", k, ns / 1e6 / steps));
            }
            if (json) System.out.println(r.toJson());
        }
        return 0;
    }

    private CaseResult run(BenchCase c, Backend backend, Backend used, ProfilingBackend profiler, int threadCount) {
        CpuBackend cpu = backend instanceof CpuBackend b ? b : null;
        if (cpu != null) cpu.trimCache();
        System.gc();
        ProcessMemory.resetPeak();
        if (cpu != null) cpu.resetPeakBytes();
        double[] ms = new double[steps];
        try (Workload w = c.build(used, batch)) {
            for (int i = 0; i < warmup; i++) w.step();
            if (profiler != null) profiler.reset();
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                w.step();
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Map<KernelFamily, Double> profileMs = new EnumMap<>(KernelFamily.class);
            if (profiler != null) profiler.nanosByFamily().forEach((f, ns) -> profileMs.put(f, ns / 1e6 / steps));
            long rss = ProcessMemory.peakResidentBytes();
            long backendPeak = cpu != null ? cpu.peakBytes() : -1;
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            return new CaseResult(c.cliName(), backend.name(), batch, threadCount, steps, median(sorted), sorted[0],
                    sorted[sorted.length - 1], w.flopsPerStep(), rss, backendPeak, profileMs);
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * The OpenBLAS variables that change its speed (OPENBLAS_CORETYPE=Haswell halves it here; without
     * OPENBLAS_THREAD_TIMEOUT its idle threads slow the Java kernels down).
     */
    private static String blasEnvironment() {
        List<String> vars = new ArrayList<>();
        for (String k : new String[]{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_THREAD_TIMEOUT",
                "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}) {
            String v = System.getenv(k);
            if (v != null) vars.add(k + "=" + v);
        }
        return vars.isEmpty() ? "(no OpenBLAS overrides)" : String.join(" ", vars);
    }
}
