package dev.kiln.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The host emulation of CUDA kernels, tested on its own: it knows every kernel of {@code src/main/cuda}, its
 * barriers and warp shuffles give a GPU's results, and it refuses what would hang or misbehave on a GPU.
 */
class HostKernelsTest {
    private static final String SELF_TEST = "selftest_";

    @BeforeEach
    void requireEmulation() {
        assumeTrue(HostKernels.UNAVAILABLE == null, () -> HostKernels.UNAVAILABLE);
    }

    @Test
    void everyKernelOfTheSourcesIsRegistered() {
        Set<String> registered = Arrays.stream(HostKernels.kernelNames()).filter(n -> !n.startsWith(SELF_TEST))
                .collect(Collectors.toSet());
        assertEquals(KernelSignatureTest.declaredKernels().keySet(), registered,
                "register every kernel of src/main/cuda in src/test/cpp/kiln_emulated_kernels.h");
    }

    @Test
    void barriersMakeSharedMemoryVisibleToTheWholeBlock() {
        int blocks = 3, threads = 64;
        float[] in = new float[blocks * threads];
        for (int i = 0; i < in.length; i++) in[i] = i;
        float[] expected = new float[in.length];
        for (int b = 0; b < blocks; b++) {
            for (int t = 0; t < threads; t++) expected[b * threads + t] = in[b * threads + threads - 1 - t];
        }
        try (FloatPointer x = new FloatPointer(in); FloatPointer y = new FloatPointer(in.length);
             KernelArgs args = new KernelArgs(2).ptr(x.address()).ptr(y.address())) {
            assertNull(HostKernels.launch(SELF_TEST + "block_reverse_f32", blocks, threads, args.pointers()));
            float[] out = new float[in.length];
            y.get(out);
            assertArrayEquals(expected, out);
        }
    }

    @Test
    void warpShufflesSumALane() {
        int threads = 96;
        float[] in = new float[threads];
        for (int i = 0; i < threads; i++) in[i] = i;
        try (FloatPointer x = new FloatPointer(in); FloatPointer y = new FloatPointer(3);
             KernelArgs args = new KernelArgs(2).ptr(x.address()).ptr(y.address())) {
            assertNull(HostKernels.launch(SELF_TEST + "warp_sum_f32", 1, threads, args.pointers()));
            float[] sums = new float[3];
            y.get(sums);
            // Lanes 0..31, 32..63, 64..95.
            assertArrayEquals(new float[] {496, 496 + 32 * 32, 496 + 64 * 32}, sums);
        }
    }

    @Test
    void blocksAndThreadsRunInNoFixedOrder() {
        int blocks = 4, threads = 64, n = blocks * threads;
        boolean threadsShuffled = false, blocksShuffled = false;
        for (int launch = 0; launch < 8; launch++) {
            int[] seen = recordOrder(blocks, threads);
            int[] sorted = seen.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < n; i++) assertEquals(i, sorted[i], "every thread of every block ran once");
            for (int i = 0; i + 1 < threads; i++) threadsShuffled |= seen[i + 1] < seen[i];
            blocksShuffled |= seen[0] / threads != 0;
        }
        assertTrue(threadsShuffled, "a kernel that relies on the order of a block's threads must fail here");
        assertTrue(blocksShuffled, "nor may it rely on the order of blocks");
    }

    /** The (block * threads + thread) of each thread, in the order they ran. */
    private static int[] recordOrder(int blocks, int threads) {
        try (IntPointer order = new IntPointer((long) blocks * threads); IntPointer counter = new IntPointer(1);
             KernelArgs args = new KernelArgs(2).ptr(order.address()).ptr(counter.address())) {
            counter.put(0, 0);
            assertNull(HostKernels.launch(SELF_TEST + "record_order", blocks, threads, args.pointers()));
            assertEquals(blocks * threads, counter.get(0));
            int[] seen = new int[blocks * threads];
            order.get(seen);
            return seen;
        }
    }

    @Test
    void eachBlockFindsItsSharedMemoryPoisoned() {
        // The kernel copies its shared memory out before writing 1s into it; a second block must not see them.
        try (FloatPointer y = new FloatPointer(128); KernelArgs args = new KernelArgs(1).ptr(y.address())) {
            assertNull(HostKernels.launch(SELF_TEST + "read_shared_first", 2, 64, args.pointers()));
            float[] seen = new float[128];
            y.get(seen);
            for (int i = 0; i < seen.length; i++) assertTrue(Float.isNaN(seen[i]), "element " + i + ": " + seen[i]);
        }
    }

    @Test
    void aBarrierThatSomeThreadsNeverReachFails() {
        assertLaunchFails("divergent_barrier", "__syncthreads reached by 32 of 64 threads");
    }

    @Test
    void threadsAtTwoDifferentBarriersFail() {
        assertLaunchFails("two_barriers", "two different __syncthreads");
    }

    @Test
    void aBarrierInAKernelRegisteredAsIndependentFails() {
        assertLaunchFails("unregistered_barrier", "register it as cooperative");
    }

    /** Launches a self-test kernel that takes one float* over a block of 64 threads; it must fail saying so. */
    private static void assertLaunchFails(String kernel, String reason) {
        try (FloatPointer y = new FloatPointer(64); KernelArgs args = new KernelArgs(1).ptr(y.address())) {
            String error = HostKernels.launch(SELF_TEST + kernel, 1, 64, args.pointers());
            assertTrue(error != null && error.contains(reason), kernel + ": " + error);
        }
    }

    @Test
    void unknownKernelsAndBadLaunchesFail() {
        try (FloatPointer y = new FloatPointer(4); KernelArgs args = new KernelArgs(1).ptr(y.address())) {
            String unknown = HostKernels.launch("no_such_kernel", 1, 32, args.pointers());
            assertTrue(unknown != null && unknown.contains("not registered"), unknown);
            String tooWide = HostKernels.launch("fill_f32", 1, 2048, args.pointers());
            assertTrue(tooWide != null && tooWide.contains("invalid launch"), tooWide);
        }
        try (HostDevice device = new HostDevice()) {
            EmulatedKernelLauncher launcher = new EmulatedKernelLauncher(device, false);
            launcher.launch("nowhere.cu", "no_such_kernel", 1, 32, new KernelArgs(0));
            // Queued, so the failure shows where the host next waits, as an asynchronous error does on a GPU.
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> device.synchronize("test"));
            assertTrue(e.getMessage().contains("no_such_kernel") && e.getMessage().contains("nowhere.cu"),
                    e.getMessage());
            // The failure does not poison the stream: later work runs.
            assertEquals(0, device.queuedWork());
            long buffer = device.malloc(4 * Float.BYTES);
            try (KernelArgs args = new KernelArgs(3).ptr(buffer).f32(2.5f).i64(4)) {
                launcher.launch("elementwise.cu", "fill_f32", 1, 32, args);
            }
            device.synchronize("test");
            float[] filled = new float[4];
            new FloatPointer(DevicePointers.at(buffer)).get(filled);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f}, filled);
        }
    }
}
