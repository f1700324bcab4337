package dev.kiln.cuda;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Launches kernels on the host emulation ({@link HostKernels}) as a GPU would: queued on the device's stream
 * ({@link HostDevice}) behind earlier work, with the argument values copied at launch, as {@code cuLaunchKernel}
 * copies them (the caller frees its {@link KernelArgs} as soon as the launch returns).
 */
final class EmulatedKernelLauncher implements KernelLauncher {
    private final HostDevice device;
    private final boolean synchronizeKernels;

    /** With {@code synchronizeKernels} (kiln.cuda.debugSync), each launch runs at once, so an error names it. */
    EmulatedKernelLauncher(HostDevice device, boolean synchronizeKernels) {
        this.device = device;
        this.synchronizeKernels = synchronizeKernels;
    }

    @Override
    public void launch(String file, String kernel, int gridX, int blockX, KernelArgs args) {
        if (gridX <= 0) return;  // as CudaModules: nothing to do
        Snapshot values = new Snapshot(args);
        device.enqueue("kernel " + kernel + " (" + file + ")", () -> {
            try (values) {
                String error = HostKernels.launch(kernel, gridX, blockX, values.pointers);
                if (error != null) throw new IllegalStateException(error);
            }
        });
        if (synchronizeKernels) device.runAll();
    }

    /** A copy of a launch's argument values, each in memory of its own, and the array of pointers to them. */
    private static final class Snapshot implements AutoCloseable {
        final PointerPointer<Pointer> pointers;
        private final LongPointer[] values;

        Snapshot(KernelArgs args) {
            String kinds = args.kinds();
            pointers = new PointerPointer<>(kinds.length());
            values = new LongPointer[kinds.length()];
            for (int i = 0; i < kinds.length(); i++) {
                if (kinds.charAt(i) == 's') {
                    values[i] = new LongPointer(args.structWords(i));  // a struct of 8-byte words, by value
                } else {
                    values[i] = new LongPointer(new long[] {args.slotValue(i)});  // an 8-byte slot
                }
                pointers.put(i, values[i]);
            }
        }

        @Override
        public void close() {
            for (LongPointer v : values) v.close();
            pointers.close();
        }
    }
}
