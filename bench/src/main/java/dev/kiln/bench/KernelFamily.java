package dev.kiln.bench;

/** The groups that {@link ProfilingBackend} adds kernel time into, one line each in the profile table. */
public enum KernelFamily {
    CONV_FORWARD("conv fwd"),
    CONV_BATCHNORM_FORWARD("conv+bn fwd (fused)"),
    CONV_BACKWARD_DATA("conv bwd data"),
    CONV_BACKWARD_FILTER("conv bwd filter"),
    BATCHNORM_FORWARD("batchnorm fwd"),
    BATCHNORM_BACKWARD("batchnorm bwd"),
    ELEMENTWISE("elementwise"),
    GEMM("gemm (dense)"),
    POOLING("pooling"),
    SOFTMAX_LOSS("softmax / loss"),
    OPTIMIZER("optimizer"),
    MEMORY("memory (fill/copy/io)");

    private final String label;

    KernelFamily(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** A JSON-friendly key such as "conv_forward". */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
