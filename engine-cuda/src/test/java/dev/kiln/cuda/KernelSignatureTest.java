package dev.kiln.cuda;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks, without a GPU, that every {@link CudaKernels} method launches a kernel that exists in the file it names,
 * with arguments of the C parameter types in order. cuLaunchKernel cannot check this: a float passed where the
 * kernel reads a long long is silently garbage.
 */
class KernelSignatureTest {
    private static final String[] FILES = {"elementwise.cu", "copy.cu", "channel.cu", "reduce.cu", "pool.cu",
            "softmax_ce.cu", "optim.cu", "dropout.cu", "batchnorm.cu"};
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    record Launch(String file, String kernel, String kinds, int grid, int block) {
    }

    /** kernel name -> (file, parameter kinds) from the .cu sources. */
    static Map<String, String[]> declaredKernels() {
        Map<String, String[]> kernels = new HashMap<>();
        for (String file : FILES) {
            String source = CudaModules.readSource(file);
            Matcher m = KERNEL.matcher(source.replaceAll("\\s+", " "));
            while (m.find()) kernels.put(m.group(1), new String[] {file, kinds(m.group(2))});
        }
        return kernels;
    }

    /** The KernelArgs letter for each C parameter. */
    static String kinds(String parameters) {
        StringBuilder sb = new StringBuilder();
        for (String p : parameters.split(",")) {
            String t = p.trim();
            if (t.contains("*")) sb.append('p');
            else if (t.startsWith("StridedLayout")) sb.append('s');
            else if (t.startsWith("long long") || t.startsWith("unsigned long long")) sb.append('l');
            else if (t.startsWith("int")) sb.append('i');
            else if (t.startsWith("float")) sb.append('f');
            else throw new AssertionError("unexpected kernel parameter type: " + t);
        }
        return sb.toString();
    }

    @Test
    void everyLaunchMatchesItsKernelSignature() throws Exception {
        List<Launch> launches = new ArrayList<>();
        CudaKernels kernels = new CudaKernels((file, kernel, grid, block, args) ->
                launches.add(new Launch(file, kernel, args.kinds(), grid, block)));
        for (Method method : CudaKernels.class.getDeclaredMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || Modifier.isPrivate(method.getModifiers())) continue;
            Class<?>[] types = method.getParameterTypes();
            if (types.length > 0 && types[0] == String.class) {
                long[] words = new long[StridedLayout.WORDS];
                words[1] = 1000;  // numel
                for (String name : new String[] {"copy_f32_f32", "copy_f32_i32", "copy_i32_f32", "copy_i32_i32"}) {
                    method.invoke(kernels, name, 1L, 2L, new StridedLayout(words));
                }
                continue;
            }
            Object[] values = new Object[types.length];
            for (int i = 0; i < types.length; i++) values[i] = dummy(types[i]);
            method.invoke(kernels, values);
        }
        Map<String, String[]> declared = declaredKernels();
        assertTrue(launches.size() >= 25, "expected a launch per kernel method, got " + launches.size());
        for (Launch launch : launches) {
            String[] decl = declared.get(launch.kernel());
            assertNotNull(decl, "kernel " + launch.kernel() + " is not declared extern \"C\" in any .cu file");
            assertEquals(decl[0], launch.file(), "kernel " + launch.kernel() + " lives in another file");
            assertEquals(decl[1], launch.kinds(), "argument kinds of " + launch.kernel() + " (p ptr, i int, l long long, f float, s struct)");
            assertEquals(CudaKernels.BLOCK, launch.block());
            assertTrue(launch.grid() >= 1, "grid of " + launch.kernel());
        }
        assertEquals(declared.keySet(), launches.stream().map(Launch::kernel).collect(java.util.stream.Collectors.toSet()),
                "every kernel in the .cu files should be reachable from CudaKernels");
    }

    private static Object dummy(Class<?> type) {
        if (type == long.class) return 1000L;
        if (type == int.class) return 3;
        if (type == float.class) return 0.5f;
        if (type == boolean.class) return true;
        throw new AssertionError("add a dummy value for " + type);
    }

    @Test
    void argumentsArePackedIntoEightByteSlots() {
        try (KernelArgs args = new KernelArgs(4).ptr(0x7f00_0000_1000L).i32(-3).f32(1.5f).i64(1L << 40)) {
            assertEquals("pifl", args.kinds());
            assertEquals(0x7f00_0000_1000L, args.slotValue(0));
            assertEquals(-3, (int) args.slotValue(1));
            assertEquals(1.5f, Float.intBitsToFloat((int) args.slotValue(2)));
            assertEquals(1L << 40, args.slotValue(3));
            assertEquals(4, args.size());
        }
    }

    @Test
    void stridedLayoutMatchesTheCStruct() {
        String source = CudaModules.readSource("copy.cu");
        assertTrue(source.contains("#define MAX_RANK " + StridedLayout.MAX_RANK));
        // rank, numel, shape[8], srcStride[8], dstStride[8], srcOffset, dstOffset: all long long.
        assertEquals(2 + 3 * 8 + 2, StridedLayout.WORDS);
    }
}
