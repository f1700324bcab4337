package dev.kiln.trainer.data;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.io.pretrained.Downloader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default dataset, served from a loopback HTTP server: downloaded once, unpacked, hostile archives refused. */
class TutorialDatasetTest {
    @TempDir
    Path cache;
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    private URI serve(byte[] body) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/hymenoptera_data.zip", exchange -> {
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hymenoptera_data.zip");
    }

    private static byte[] zip(String... names) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (String name : names) {
                z.putNextEntry(new ZipEntry(name));
                z.write(name.getBytes());
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private TutorialDataset dataset(URI url) {
        return new TutorialDataset(url, cache, new Downloader(Duration.ofSeconds(2), Duration.ofSeconds(5)));
    }

    @Test
    void downloadsOnceAndUnpacksIntoTheCache() throws IOException {
        URI url = serve(zip("hymenoptera_data/train/ants/a.jpg", "hymenoptera_data/val/bees/b.jpg"));
        Path folder = dataset(url).folder();
        assertEquals(cache.resolve("hymenoptera_data"), folder);
        assertTrue(Files.isRegularFile(folder.resolve("train/ants/a.jpg")));
        assertFalse(Files.exists(cache.resolve("hymenoptera_data.zip")), "the archive is not kept");
        server.stop(0);
        assertEquals(folder, dataset(url).folder(), "the second call needs no server");
    }

    @Test
    void anArchiveThatWritesOutsideItsFolderIsRefused() throws IOException {
        URI url = serve(zip("hymenoptera_data/train/a.jpg", "../escaped.jpg"));
        IOException e = assertThrows(IOException.class, () -> dataset(url).folder());
        assertTrue(e.getMessage().contains("leaves the folder"), e.getMessage());
        assertFalse(Files.exists(cache.getParent().resolve("escaped.jpg")));
        assertFalse(Files.exists(cache.resolve("hymenoptera_data")));
    }

    @Test
    void anArchiveWithoutTheExpectedLayoutIsRefused() throws IOException {
        URI url = serve(zip("something/else.txt"));
        IOException e = assertThrows(IOException.class, () -> dataset(url).folder());
        assertTrue(e.getMessage().contains("hymenoptera_data/train"), e.getMessage());
    }

    @Test
    void withoutNetworkItFailsFastAndSaysWhatToPass() {
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class,
                () -> dataset(URI.create("http://127.0.0.1:1/hymenoptera_data.zip")).folder());
        assertTrue(e.getMessage().contains("--data ../shared/data/hymenoptera"), e.getMessage());
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "fails within the connect timeout");
    }
}
