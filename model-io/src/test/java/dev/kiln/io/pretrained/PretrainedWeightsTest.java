package dev.kiln.io.pretrained;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Download, hash check, conversion and caching against a loopback HTTP server. The served "official" file is a
 * small SqueezeNet state_dict in safetensors, named as torchvision names its files: after the first 8 hex digits
 * of its SHA-256.
 */
class PretrainedWeightsTest {
    @TempDir
    Path tmp;

    private HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/models/", exchange -> {
            requests.incrementAndGet();
            byte[] body = files.get(exchange.getRequestURI().getPath().substring("/models/".length()));
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private PretrainedWeights weights(Path cache) {
        return new PretrainedWeights("http://127.0.0.1:" + server.getAddress().getPort() + "/models",
                cache, new Downloader(Duration.ofSeconds(2), Duration.ofSeconds(10)));
    }

    /** A torchvision-style SqueezeNet state_dict of a freshly initialized model. */
    private static byte[] squeezeNetFile(Path tmp, SqueezeNet11 model) throws Exception {
        NamedTensors t = new NamedTensors();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            t.put(e.getKey(), TensorData.ofFloats(e.getValue().shape().toArray(), e.getValue().toFloatArray()));
        }
        Path file = tmp.resolve("served.safetensors");
        SafeTensors.write(file, t, Map.of());
        return Files.readAllBytes(file);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void downloadsChecksConvertsOnceThenUsesTheCache() throws Exception {
        SqueezeNet11 original = new SqueezeNet11(true, 1000);
        byte[] body = squeezeNetFile(tmp, original);
        String name = "squeezenet1_1-" + sha256(body).substring(0, 8) + ".safetensors";
        files.put(name, body);
        Path cache = tmp.resolve("cache");
        PretrainedWeights.Entry entry = new PretrainedWeights.Entry(ModelKind.SQUEEZENET1_1, name);

        Path kiln = weights(cache).kilnFile(entry);
        assertEquals(cache.resolve(entry.kilnFileName()), kiln);
        assertEquals(1, requests.get());
        assertFalse(Files.exists(cache.resolve(name)), "the original is dropped once converted");
        LoadedModel loaded = KilnModelFile.load(kiln);
        assertEquals(ModelKind.SQUEEZENET1_1.card(true, 1000), loaded.card());
        assertArrayEquals(original.stateDict().get("classifier.1.weight").toFloatArray(),
                loaded.model().stateDict().get("classifier.1.weight").toFloatArray());

        assertEquals(kiln, weights(cache).kilnFile(entry));
        assertEquals(1, requests.get(), "the second call must not download again");
    }

    @Test
    void aFileWithTheWrongHashIsRefusedAndNotKept() throws Exception {
        byte[] body = "not the official weights".getBytes();
        String name = "resnet50-0676ba61.pth";
        files.put(name, body);
        Path cache = tmp.resolve("cache");
        IOException e = assertThrows(IOException.class,
                () -> weights(cache).kilnFile(new PretrainedWeights.Entry(ModelKind.RESNET50, name)));
        assertTrue(e.getMessage().contains("has SHA-256 " + sha256(body) + ", expected one starting with 0676ba61"),
                e.getMessage());
        try (var left = Files.list(cache)) {
            assertEquals(List.of(), left.toList(), "nothing may stay in the cache");
        }
    }

    @Test
    void httpErrorsAndNoNetworkSayWhatToPassInstead() throws Exception {
        Path cache = tmp.resolve("cache");
        PretrainedWeights.Entry entry = PretrainedWeights.IMAGENET.get(ModelKind.RESNET50);
        IOException notFound = assertThrows(IOException.class, () -> weights(cache).kilnFile(entry));
        assertTrue(notFound.getMessage().contains("HTTP 404"), notFound.getMessage());
        assertTrue(notFound.getMessage().contains("--weights path/to/resnet50-0676ba61.pth"), notFound.getMessage());

        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        PretrainedWeights offline = new PretrainedWeights("http://127.0.0.1:" + closedPort + "/", cache,
                new Downloader(Duration.ofSeconds(2), Duration.ofSeconds(5)));
        long start = System.nanoTime();
        IOException refused = assertThrows(IOException.class, () -> offline.kilnFile(entry));
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "must fail fast without network");
        assertTrue(refused.getMessage().startsWith("cannot download http://127.0.0.1:" + closedPort
                + "/resnet50-0676ba61.pth"), refused.getMessage());
        assertTrue(refused.getMessage().contains("pass the local file instead"), refused.getMessage());
    }

    @Test
    void torchvisionFileNamesCarryTheHashPrefix() {
        assertEquals("0676ba61", PretrainedWeights.IMAGENET.get(ModelKind.RESNET50).sha256Prefix());
        assertEquals("resnet50-0676ba61.kiln.safetensors", PretrainedWeights.IMAGENET.get(ModelKind.RESNET50).kilnFileName());
        assertEquals("b8a52dc0", PretrainedWeights.IMAGENET.get(ModelKind.SQUEEZENET1_1).sha256Prefix());
    }
}
