package dev.kiln.check;

import dev.kiln.autograd.Autograd;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Finite-difference gradient checking, as {@code torch.autograd.gradcheck}: compares the gradients that autograd
 * computes with central differences {@code (L(x + eps) - L(x - eps)) / 2 eps}, in float64.
 *
 * <p>The scalar checked is {@code L = sum(f() * r)} for a fixed random {@code r}, so every output element matters.
 * The tensors in {@code wrt} are perturbed in place, one element at a time, and {@code f} is re-run; so {@code f}
 * may read them directly (an op's inputs) or indirectly (a layer's weights). An element passes when
 * {@code |analytic - numeric| <= atol + rtol * |numeric|}.
 */
public final class GradCheck {
    /** torch.autograd.gradcheck's defaults. */
    public static final double DEFAULT_EPS = 1e-6;
    public static final double DEFAULT_ATOL = 1e-5;
    public static final double DEFAULT_RTOL = 1e-3;

    private final double eps;
    private final double atol;
    private final double rtol;
    private final int maxElementsPerTensor;
    private final long seed;

    public GradCheck() {
        this(DEFAULT_EPS, DEFAULT_ATOL, DEFAULT_RTOL, Integer.MAX_VALUE, 0);
    }

    /**
     * @param maxElementsPerTensor checks a random sample of this many elements of larger tensors, to bound the cost
     *                             (each element costs two forward passes)
     */
    public GradCheck(double eps, double atol, double rtol, int maxElementsPerTensor, long seed) {
        this.eps = eps;
        this.atol = atol;
        this.rtol = rtol;
        this.maxElementsPerTensor = maxElementsPerTensor;
        this.seed = seed;
    }

    /** What a check found: the largest error, and where it is. */
    public record Result(int elementsChecked, double maxAbsError, String worst) {
    }

    /** Thrown when an element's gradients disagree beyond tolerance. */
    public static final class Failure extends AssertionError {
        Failure(String message) {
            super(message);
        }
    }

    /**
     * Checks the gradient of {@code f} with respect to every tensor in {@code wrt}.
     *
     * @param f   recomputes the output from the current values of the tensors in {@code wrt}
     * @param wrt float64 leaf tensors that require gradients
     */
    public Result check(Supplier<Tensor> f, List<Tensor> wrt) {
        for (Tensor t : wrt) {
            if (t.dtype() != DType.F64) {
                throw new IllegalArgumentException("gradcheck needs float64 tensors, got " + t);
            }
            if (!t.requiresGrad() || t.gradFn() != null) {
                throw new IllegalArgumentException("gradcheck: " + t + " must be a leaf that requires a gradient");
            }
            t.setGrad(null);
        }
        Tensor y = f.get();
        double[] upstream = randomUpstream((int) y.numel());
        Autograd.backward(y, Tensor.of(y.backend(), upstream, y.shape().toArray()));

        SplittableRandom pick = new SplittableRandom(seed + 1);
        int checked = 0;
        double worstError = 0;
        String worst = "none";
        for (int ti = 0; ti < wrt.size(); ti++) {
            Tensor t = wrt.get(ti);
            double[] analytic = t.grad() == null ? new double[(int) t.numel()] : t.grad().toDoubleArray();
            double[] values = t.toDoubleArray();
            for (int e : elementsToCheck(values.length, pick)) {
                double numeric = numericDerivative(f, t, values, e, upstream);
                double error = Math.abs(analytic[e] - numeric);
                if (error > worstError) {
                    worstError = error;
                    worst = "input " + ti + " element " + e;
                }
                if (error > atol + rtol * Math.abs(numeric)) {
                    throw new Failure(String.format("gradcheck failed for input %d %s at flat index %d: analytic %.10g,"
                            + " numeric %.10g, |difference| %.3g > atol %.1g + rtol %.1g * |numeric|", ti, t.shape(), e,
                            analytic[e], numeric, error, atol, rtol));
                }
                checked++;
            }
        }
        return new Result(checked, worstError, worst);
    }

    private double numericDerivative(Supplier<Tensor> f, Tensor t, double[] values, int e, double[] upstream) {
        double original = values[e];
        values[e] = original + eps;
        double plus = weightedSum(f, t, values, upstream);
        values[e] = original - eps;
        double minus = weightedSum(f, t, values, upstream);
        values[e] = original;
        t.backend().write(t, values);
        return (plus - minus) / (2 * eps);
    }

    /** sum(f() * r) with {@code t} set to {@code values}, computed without recording a graph. */
    private static double weightedSum(Supplier<Tensor> f, Tensor t, double[] values, double[] upstream) {
        t.backend().write(t, values);
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            double[] y = f.get().toDoubleArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) sum += y[i] * upstream[i];
            return sum;
        }
    }

    private double[] randomUpstream(int n) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = random.nextDouble() * 2 - 1;
        return r;
    }

    private int[] elementsToCheck(int n, SplittableRandom pick) {
        if (n <= maxElementsPerTensor) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] some = new int[maxElementsPerTensor];
        for (int i = 0; i < some.length; i++) some[i] = pick.nextInt(n);
        return some;
    }
}
