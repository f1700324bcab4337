package dev.kiln.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits index ranges over a small pool of threads (one fewer than {@link CpuThreads#count()}: the calling thread
 * takes the first chunk). Callers must not nest these loops, nor call OpenBLAS inside one: OpenBLAS has its own
 * threads, and two pools fighting over two cores collapse. Each loop returns only when every chunk is done, so a
 * kernel's parallel phases and its BLAS calls take turns.
 */
final class ParallelLoops {
    /** Below this much work (elements touched), waking a second thread costs more than it saves. */
    static final long MIN_PARALLEL_WORK = 1 << 15;

    @FunctionalInterface
    interface RangeBody {
        /** Processes items [from, to). */
        void run(int from, int to);
    }

    @FunctionalInterface
    interface ChunkBody {
        /** Processes items [from, to) as chunk number {@code chunk}, below {@link CpuThreads#count()}. */
        void run(int chunk, int from, int to);
    }

    private static final ForkJoinPool POOL = CpuThreads.count() > 1
            ? new ForkJoinPool(CpuThreads.count() - 1, pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("kiln-cpu-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false)
            : null;

    private ParallelLoops() {
    }

    /**
     * Runs {@code body} over [0, n) in up to {@link CpuThreads#count()} contiguous chunks, or on the calling thread
     * alone when {@code n * workPerItem} is small.
     */
    static void forRange(int n, long workPerItem, RangeBody body) {
        forChunks(n, workPerItem, (chunk, from, to) -> body.run(from, to));
    }

    /**
     * {@link #forRange}, telling each chunk its number, so that it can use scratch space of its own (chunk numbers
     * are below {@link CpuThreads#count()}, and no two chunks of one loop share one).
     */
    static void forChunks(int n, long workPerItem, ChunkBody body) {
        int threads = CpuThreads.count();
        if (n <= 0) return;
        if (POOL == null || n == 1 || (long) n * workPerItem < MIN_PARALLEL_WORK
                || ForkJoinTask.inForkJoinPool()) {
            body.run(0, 0, n);
            return;
        }
        int chunks = Math.min(threads, n);
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int i = 1; i < chunks; i++) {
            int chunk = i, from = chunkStart(n, chunks, i), to = chunkStart(n, chunks, i + 1);
            tasks[i - 1] = POOL.submit(() -> body.run(chunk, from, to));
        }
        Throwable failure = null;
        try {
            body.run(0, 0, chunkStart(n, chunks, 1));
        } catch (Throwable t) {
            failure = t;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new RuntimeException(failure);
    }

    private static int chunkStart(int n, int chunks, int i) {
        return (int) ((long) n * i / chunks);
    }
}
