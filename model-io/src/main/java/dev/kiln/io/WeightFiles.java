package dev.kiln.io;

import dev.kiln.io.keras.KerasH5;
import dev.kiln.io.npy.Npy;
import dev.kiln.io.npy.NpyDirectory;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.io.torch.TorchFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads any supported weight file, choosing the reader from the file's first bytes (the extension is
 * only a hint in error messages): a folder of .npy files, a .npy array, Keras HDF5, a PyTorch zip
 * archive or legacy pickle, or safetensors.
 */
public final class WeightFiles {
    /** The formats {@link #read} recognises. */
    public enum Format { NPY_DIRECTORY, NPY, KERAS_H5, TORCH_ZIP, TORCH_LEGACY, SAFETENSORS }

    private static final int HEAD_BYTES = 16;

    private WeightFiles() {
    }

    public static NamedTensors read(Path path) throws IOException {
        return switch (detect(path)) {
            case NPY_DIRECTORY -> NpyDirectory.read(path);
            case NPY -> {
                String name = path.getFileName().toString().replaceFirst("\\.npy$", "");
                yield new NamedTensors().put(name, Npy.read(path));
            }
            case KERAS_H5 -> KerasH5.read(path);
            case TORCH_ZIP, TORCH_LEGACY -> TorchFiles.read(path);
            case SAFETENSORS -> SafeTensors.read(path);
        };
    }

    /** The format of a file or folder, or a one-line error saying why none fits. */
    public static Format detect(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (NpyDirectory.holdsNpyFiles(path)) {
                return Format.NPY_DIRECTORY;
            }
            throw new WeightFormatException(path, "directory without .npy files: not a weight folder");
        }
        if (!Files.isRegularFile(path)) {
            throw new WeightFormatException(path, "no such file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(HEAD_BYTES);
        }
        long size = Files.size(path);
        if (Npy.looksLike(head)) {
            return Format.NPY;
        }
        if (KerasH5.looksLike(head)) {
            return Format.KERAS_H5;
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.TORCH_ZIP;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return Format.TORCH_LEGACY;
        }
        if (SafeTensors.looksLike(head, size)) {
            return Format.SAFETENSORS;
        }
        throw new WeightFormatException(path, "unknown weight format" + extensionHint(path)
                + " (first bytes " + hex(head) + "); supported: safetensors, PyTorch .pth/.pt, Keras .h5, .npy"
                + " or a folder of .npy");
    }

    private static String extensionHint(Path path) {
        String n = path.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : " despite the extension '" + n.substring(dot) + "'";
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 8); i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
        }
        return sb.length() == 0 ? "none, empty file" : sb.toString();
    }
}
