package dev.kiln.io.torch;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a PyTorch state_dict saved with torch.save, in the zip format (PyTorch 1.6 and later) or the
 * legacy pickle format, without Python and without executing anything from the file.
 */
public final class TorchFiles {
    private TorchFiles() {
    }

    /** Names as in the state_dict ("layer1.0.conv1.weight"), tensors made contiguous. */
    public static NamedTensors read(Path file) throws IOException {
        byte[] head = new byte[2];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 2);
        }
        if (n == 2 && head[0] == 'P' && head[1] == 'K') {
            return TorchZipReader.read(file);
        }
        if (n == 2 && (head[0] & 0xff) == 0x80) {
            return TorchLegacyReader.read(file);
        }
        throw new WeightFormatException(file, "not a torch.save file (neither a zip archive nor a pickle)");
    }
}
