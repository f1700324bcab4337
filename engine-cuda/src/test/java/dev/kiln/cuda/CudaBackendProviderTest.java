package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;
import dev.kiln.backend.Backends;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider must never throw: on a machine without a GPU it reports why; with one, it opens it. */
class CudaBackendProviderTest {

    /** Whether the NVIDIA kernel driver shows a GPU, judged without any CUDA library. */
    static boolean machineHasNvidiaGpu() {
        return Files.exists(Path.of("/dev/nvidia0"));
    }

    @Test
    void isFoundByServiceLoaderWithAcceleratorPriority() {
        BackendProvider cuda = Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst()
                .orElseThrow(() -> new AssertionError("cuda provider not registered in META-INF/services"));
        assertEquals(100, cuda.priority());
    }

    @Test
    void reportsAvailabilityWithoutThrowing() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Optional<Backend> backend = provider.create();
        String reason = provider.unavailableReason();
        System.out.println("[cuda] available=" + backend.isPresent() + (backend.isEmpty() ? ", reason: " + reason : ""));
        if (machineHasNvidiaGpu() && !Boolean.getBoolean("kiln.cuda.allowUnavailable")) {
            assertTrue(backend.isPresent(), "this machine has /dev/nvidia0 but the cuda backend is unavailable: " + reason);
            assertEquals("cuda", backend.get().name());
        } else {
            assertTrue(backend.isEmpty(), "no NVIDIA GPU here, yet the cuda backend opened");
            assertFalse(reason.isBlank(), "an unavailable backend must say why");
        }
    }

    @Test
    void verdictIsCachedAndRepeatable() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Optional<Backend> first = provider.create();
        Optional<Backend> second = new CudaBackendProvider().create();
        assertSame(first, second, "the provider must open the GPU (or fail) once per process");
        assertEquals(provider.unavailableReason(), new CudaBackendProvider().unavailableReason());
    }

    @Test
    void withoutDriverTheReasonNamesIt() {
        // Only meaningful where the driver library is absent, as on the CPU CI machines.
        org.junit.jupiter.api.Assumptions.assumeFalse(machineHasNvidiaGpu(), "this machine has an NVIDIA GPU");
        String reason = new CudaBackendProvider().unavailableReason();
        assertTrue(reason.contains("libcuda.so.1") || reason.contains("CUDA"), "reason should name what is missing: " + reason);
    }
}
