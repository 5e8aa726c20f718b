package dev.isthmus.io;

import java.util.List;
import java.util.Map;

/**
 * What a non-strict checkpoint load did ({@link Checkpoint#loadMatching}), after PyTorch's
 * {@code load_state_dict(strict=False)} result: the model's tensors the file lacks, the file's
 * tensors the model lacks, and (where PyTorch would raise) the tensors whose shape or dtype differ,
 * which are skipped. Everything else was loaded.
 *
 * @param loaded          names loaded, in the model's order
 * @param missing         the model's names absent from the file (left as they were)
 * @param unexpected      the file's names the model does not have (optimizer state excluded)
 * @param mismatched      "name: file [1000, 512], model [5, 512]" for each tensor skipped because it differs
 * @param trainingState   the training facts saved with the file (empty for a plain state_dict)
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> mismatched,
                         Map<String, Object> trainingState) {
    /**
     * Checks the components.
     *
     * @param loaded the names loaded
     * @param missing the model's names the file lacks
     * @param unexpected the file's names the model lacks
     * @param mismatched the names whose shapes differ, with both shapes
     * @param trainingState the training state
     */
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
        trainingState = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(trainingState));
    }

    /**
     * Whether every tensor of the model was loaded and the file held nothing else.
     *
     * @return whether complete
     */
    public boolean complete() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    /**
     * What was skipped, for a log: one line per kind that is not empty.
     *
     * @return the describe skipped
     */
    public String describeSkipped() {
        StringBuilder text = new StringBuilder();
        if (!mismatched.isEmpty()) {
            text.append("skipped (shape or dtype differs): ").append(String.join("; ", mismatched)).append('\n');
        }
        if (!missing.isEmpty()) {
            text.append("missing from the file (kept as initialised): ").append(String.join(", ", missing)).append('\n');
        }
        if (!unexpected.isEmpty()) {
            text.append("unexpected in the file (ignored): ").append(String.join(", ", unexpected)).append('\n');
        }
        return text.toString();
    }
}
