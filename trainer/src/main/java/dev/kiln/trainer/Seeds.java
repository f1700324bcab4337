package dev.kiln.trainer;

import dev.kiln.trainer.data.Sample;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Every random choice of a run derives from the user's seed and where it happens (epoch, sample), never from
 * shared generator state: so threads, caching and resuming cannot change what a run computes.
 */
final class Seeds {
    private Seeds() {
    }

    /** A well-mixed seed for (seed, epoch, item). */
    static long of(long seed, long epoch, long item) {
        long h = seed;
        h = mix(h ^ (0x9E3779B97F4A7C15L * (epoch + 1)));
        h = mix(h ^ (0xC2B2AE3D27D4EB4FL * (item + 1)));
        return h;
    }

    /** The training order of an epoch: a permutation seeded by (seed, epoch). */
    static List<Sample> shuffled(List<Sample> samples, long seed, int epoch) {
        List<Sample> order = new ArrayList<>(samples);
        SplittableRandom rng = new SplittableRandom(of(seed, epoch, -1));
        for (int i = order.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Sample t = order.get(i);
            order.set(i, order.get(j));
            order.set(j, t);
        }
        return order;
    }

    /** SplitMix64's finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
