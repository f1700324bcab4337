package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One oracle case file (safetensors: an 8-byte header length, a JSON header, raw little-endian data) with its
 * {@code params}. This minimal reader exists for tests only; model-io has the strict production reader.
 */
public final class OracleCase {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final String name;
    private final JsonNode params;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private record Entry(String dtype, int[] shape, ByteBuffer data) {
    }

    private OracleCase(Path file) throws IOException {
        this.file = file;
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(all.getLong(0));
        JsonNode header = JSON.readTree(new String(all.array(), 8, headerLength, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLength;
        JsonNode meta = header.path("__metadata__");
        this.name = meta.path("case").asText(file.getFileName().toString());
        this.params = meta.has("params") ? JSON.readTree(meta.get("params").asText()) : JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            int[] shape = new int[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asInt();
            int begin = t.get("data_offsets").get(0).asInt();
            int end = t.get("data_offsets").get(1).asInt();
            ByteBuffer slice = all.slice(dataStart + begin, end - begin).order(ByteOrder.LITTLE_ENDIAN);
            entries.put(e.getKey(), new Entry(t.get("dtype").asText(), shape, slice));
        }
    }

    public static OracleCase read(Path file) {
        try {
            return new OracleCase(file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read oracle case " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    public String name() {
        return name;
    }

    public JsonNode params() {
        return params;
    }

    public String op() {
        return params.path("op").asText("");
    }

    public boolean has(String tensor) {
        return entries.containsKey(tensor);
    }

    public Set<String> names() {
        return entries.keySet();
    }

    public int[] shape(String tensor) {
        return entry(tensor).shape.clone();
    }

    public float[] floats(String tensor) {
        Entry e = entry(tensor);
        ByteBuffer b = e.data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count(e.shape)];
        switch (e.dtype) {
            case "F32" -> b.asFloatBuffer().get(out);
            case "I32" -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4); }
            case "I64" -> { for (int i = 0; i < out.length; i++) out[i] = b.getLong(i * 8); }
            default -> throw new IllegalStateException(name + ": tensor '" + tensor + "' has dtype " + e.dtype);
        }
        return out;
    }

    public int[] ints(String tensor) {
        float[] f = floats(tensor);
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) out[i] = (int) f[i];
        return out;
    }

    /** A float32 tensor on {@code backend}. */
    public Tensor tensor(String tensor, Backend backend) {
        return Tensor.of(backend, floats(tensor), shape(tensor));
    }

    /** Integer labels as an I32 tensor. */
    public Tensor labels(String tensor, Backend backend) {
        return Tensor.ofLabels(backend, ints(tensor));
    }

    private Entry entry(String tensor) {
        Entry e = entries.get(tensor);
        if (e == null) throw new IllegalStateException(name + " (" + file + ") has no tensor '" + tensor + "'; it has " + entries.keySet());
        return e;
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
