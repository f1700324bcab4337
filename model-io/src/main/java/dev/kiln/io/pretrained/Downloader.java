package dev.kiln.io.pretrained;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Downloads one file over HTTP(S) into place, checking its SHA-256 on the way. The bytes go to a temporary file
 * beside the target and are moved there only when the hash fits, so the target is either complete and verified or
 * absent.
 */
public final class Downloader {
    private final HttpClient client;
    private final Duration responseTimeout;

    /**
     * @param connectTimeout  how long to wait for a connection: short, so that a machine without network fails fast
     * @param responseTimeout how long to wait for the server to start answering
     */
    public Downloader(Duration connectTimeout, Duration responseTimeout) {
        this.client = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        this.responseTimeout = responseTimeout;
    }

    /**
     * Downloads {@code url} to {@code target}.
     *
     * @param expectedSha256 the hash in lowercase hex, or a prefix of it (torchvision's file names carry the first
     *                       eight digits)
     * @return the full SHA-256 of the file
     */
    public String download(URI url, Path target, String expectedSha256) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".part");
        try {
            HttpResponse<InputStream> response = send(url);
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("cannot download " + url + ": HTTP " + response.statusCode());
            }
            MessageDigest sha256 = sha256();
            try (InputStream in = new DigestInputStream(response.body(), sha256);
                 OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            String actual = HexFormat.of().formatHex(sha256.digest());
            if (!actual.startsWith(expectedSha256.toLowerCase())) {
                throw new IOException("downloaded " + url + " has SHA-256 " + actual + ", expected "
                        + (expectedSha256.length() < 64 ? "one starting with " : "") + expectedSha256
                        + ": the download is corrupted or not the official file; it was not kept");
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return actual;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private HttpResponse<InputStream> send(URI url) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(responseTimeout).GET().build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("download of " + url + " interrupted", e);
        } catch (IOException e) {
            // The HTTP client often leaves the message empty ("connection refused", no route, unknown host).
            String reason = e.getMessage() != null ? e.getMessage() : "no connection: " + e.getClass().getSimpleName();
            throw new IOException("cannot download " + url + " (" + reason + ")", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
