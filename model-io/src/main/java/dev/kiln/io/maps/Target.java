package dev.kiln.io.maps;

/** Where one tensor of a weight file goes: the parameter path in the Kiln model, and the layout change. */
public record Target(String path, Layout layout) {
    public static Target asIs(String path) {
        return new Target(path, Layout.AS_IS);
    }
}
