package dev.kiln.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The epochs run so far, in order, like Keras's {@code History}; phase 2 appends to phase 1's. */
public final class History {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<EpochRecord> records = new ArrayList<>();

    public void add(EpochRecord r) {
        records.add(r);
    }

    public List<EpochRecord> records() {
        return List.copyOf(records);
    }

    public int size() {
        return records.size();
    }

    /** Epochs of the given phase (1 or 2). */
    public int epochsInPhase(int phase) {
        return (int) records.stream().filter(r -> r.phase() == phase).count();
    }

    /** The best validation accuracy so far, or -1 with no epoch yet. */
    public double bestValAccuracy() {
        return records.stream().mapToDouble(EpochRecord::valAccuracy).max().orElse(-1);
    }

    /** The last epoch of phase 1, where the plots draw the phase boundary (0 when phase 1 has no epoch). */
    public int phaseBoundary() {
        return records.stream().filter(r -> r.phase() == 1).mapToInt(EpochRecord::epoch).max().orElse(0);
    }

    public ArrayNode toJson() {
        ArrayNode arr = JSON.createArrayNode();
        for (EpochRecord r : records) {
            ObjectNode o = arr.addObject();
            o.put("epoch", r.epoch());
            o.put("phase", r.phase());
            o.put("loss", r.loss());
            o.put("accuracy", r.accuracy());
            o.put("val_loss", r.valLoss());
            o.put("val_accuracy", r.valAccuracy());
            o.put("lr", r.lr());
            o.put("seconds", r.seconds());
        }
        return arr;
    }

    public static History fromJson(JsonNode arr) {
        History h = new History();
        for (JsonNode o : arr) {
            h.add(new EpochRecord(o.get("epoch").asInt(), o.get("phase").asInt(), o.get("loss").asDouble(),
                    o.get("accuracy").asDouble(), o.get("val_loss").asDouble(), o.get("val_accuracy").asDouble(),
                    o.get("lr").asDouble(), o.get("seconds").asDouble()));
        }
        return h;
    }

    /** {@code history.json}: the records, and the phase boundary for plotting elsewhere. */
    public void writeJson(Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("phase_boundary_epoch", phaseBoundary());
        root.set("epochs", toJson());
        AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }

    public static History readJson(Path file) throws IOException {
        return fromJson(JSON.readTree(file.toFile()).get("epochs"));
    }

    /** {@code history.csv}, one line per epoch. */
    public void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("epoch,phase,loss,accuracy,val_loss,val_accuracy,lr,seconds\n");
        for (EpochRecord r : records) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.3g,%.2f%n", r.epoch(), r.phase(),
                    r.loss(), r.accuracy(), r.valLoss(), r.valAccuracy(), r.lr(), r.seconds()));
        }
        AtomicFiles.writeBytes(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
