package dev.kiln.io.pretrained;

import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.model.WeightImport;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --weights imagenet}: torchvision's official ImageNet weights, downloaded once, checked, converted to Kiln's
 * format and kept in a cache folder; later calls use the converted file without touching the network.
 *
 * <p>Where: the base URL is {@value #DEFAULT_BASE_URL} unless the system property {@code kiln.weights.base.url} or
 * the environment variable {@code KILN_WEIGHTS_BASE_URL} says otherwise (a mirror); the cache is
 * {@code ~/.cache/kiln} unless {@code kiln.cache.dir} or {@code KILN_CACHE_DIR} says otherwise.
 *
 * <p>Integrity: torchvision names each file after the first eight hex digits of its SHA-256
 * ({@code resnet50-0676ba61.pth}); that prefix is what is checked, as torch.hub itself does, because the full hash
 * is not published beside the file.
 */
public final class PretrainedWeights {
    public static final String DEFAULT_BASE_URL = "https://download.pytorch.org/models/";
    private static final Pattern HASH_IN_NAME = Pattern.compile("-([0-9a-f]{8,64})\\.[A-Za-z.]+$");

    /** One downloadable file: which model it holds and its name under the base URL. */
    public record Entry(ModelKind kind, String fileName) {
        /** The SHA-256 prefix the file name carries. */
        public String sha256Prefix() {
            Matcher m = HASH_IN_NAME.matcher(fileName);
            if (!m.find()) throw new IllegalArgumentException("file name " + fileName + " carries no hash");
            return m.group(1);
        }

        /** The name of the converted file in the cache. */
        public String kilnFileName() {
            return fileName.replaceFirst("\\.[A-Za-z]+$", "") + ".kiln.safetensors";
        }
    }

    /** torchvision's IMAGENET1K_V1 files, by model. */
    public static final Map<ModelKind, Entry> IMAGENET = Map.of(
            ModelKind.RESNET50, new Entry(ModelKind.RESNET50, "resnet50-0676ba61.pth"),
            ModelKind.SQUEEZENET1_1, new Entry(ModelKind.SQUEEZENET1_1, "squeezenet1_1-b8a52dc0.pth"));

    private final String baseUrl;
    private final Path cacheDir;
    private final Downloader downloader;

    public PretrainedWeights(String baseUrl, Path cacheDir, Downloader downloader) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
        this.cacheDir = cacheDir;
        this.downloader = downloader;
    }

    /** Base URL and cache from the system properties or environment (see the class comment); 5 s to connect. */
    public static PretrainedWeights fromEnvironment() {
        String base = DownloadSettings.setting("kiln.weights.base.url", "KILN_WEIGHTS_BASE_URL", DEFAULT_BASE_URL);
        return new PretrainedWeights(base, DownloadSettings.cacheDir(), DownloadSettings.downloader());
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The ImageNet weights of {@code kind} as a Kiln file in the cache (downloaded and converted the first time). */
    public Path imagenetFile(ModelKind kind) throws IOException {
        Entry entry = IMAGENET.get(kind);
        if (entry == null) {
            throw new IOException("no official ImageNet weights known for " + kind.cliName() + "; known: "
                    + IMAGENET.keySet().stream().map(ModelKind::cliName).sorted().toList());
        }
        return kilnFile(entry);
    }

    /** The converted Kiln file of {@code entry} in the cache, made on first use. */
    public Path kilnFile(Entry entry) throws IOException {
        Path kiln = cacheDir.resolve(entry.kilnFileName());
        if (Files.isRegularFile(kiln)) return kiln;
        Path original = cacheDir.resolve(entry.fileName());
        URI url = URI.create(baseUrl + entry.fileName());
        try {
            downloader.download(url, original, entry.sha256Prefix());
        } catch (IOException e) {
            throw new IOException(e.getMessage() + ". Without network access, download " + entry.fileName()
                    + " elsewhere and pass the local file instead: --weights path/to/" + entry.fileName()
                    + " (or a Keras .h5, or a Kiln .safetensors)", e);
        }
        LoadedModel loaded = WeightImport.load(original, entry.kind(), true);
        KilnModelFile.save(kiln, loaded.model(), loaded.card());
        Files.delete(original); // the converted file holds the same values; keep one copy in the cache
        return kiln;
    }
}
