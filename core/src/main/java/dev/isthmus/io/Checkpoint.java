package dev.isthmus.io;

import dev.isthmus.nn.Counter;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Model (and optionally optimizer and training) state in a safetensors file that PyTorch reads too.
 *
 * <p>Top-level tensors are exactly the model's {@code state_dict}: parameters and buffers (F32)
 * under PyTorch's names, and the counters PyTorch keeps there too (batch norm's
 * {@code num_batches_tracked}, I64 scalars). Optimizer
 * state follows under {@code optimizer.<parameter>.<key>}; the training position (epoch, step,
 * generator counters, hyperparameters) is JSON in the metadata entry {@code isthmus}. A
 * state_dict saved from PyTorch loads as it is; an Isthmus checkpoint loads into PyTorch after
 * dropping the {@code optimizer.} keys.
 *
 * <p>Saving writes a temporary file and renames it, so an interrupted save leaves the previous
 * checkpoint intact. Loading checks every name, shape and dtype before changing anything.
 */
public final class Checkpoint {
    static final String OPTIMIZER_PREFIX = "optimizer.";
    static final String METADATA_KEY = "isthmus";

    private Checkpoint() {
    }

    /**
     * Saves the model's state_dict and, when given, the optimizer's state, atomically.
     *
     * @param optimizer     saved too when not null
     * @param trainingState JSON-able facts to restore with the weights (epoch, best metric, ...)
     * @param file the file
     * @param model the model
     * @throws IOException when reading or writing the file fails
     */
    public static void save(Path file, Model model, Optimizer optimizer, Map<String, Object> trainingState) throws IOException {
        save(file, model, optimizer, trainingState, Map.of());
    }

    /**
     * As {@link #save(Path, Model, Optimizer, Map)}, with more safetensors metadata entries beside
     * {@code format} and {@code isthmus}: what a reader of the weights needs to use them, such as
     * {@link InputMetadata}'s class names and preprocessing.
     *
     * @param extraMetadata string entries; may not replace {@code format} or {@code isthmus}
     * @param file the file
     * @param model the model
     * @param optimizer the optimizer
     * @param trainingState JSON-able facts to restore with the weights (epoch, best metric ...)
     * @throws IOException when reading or writing the file fails
     */
    public static void save(Path file, Model model, Optimizer optimizer, Map<String, Object> trainingState,
                            Map<String, String> extraMetadata) throws IOException {
        if (extraMetadata == null || extraMetadata.containsKey("format") || extraMetadata.containsKey(METADATA_KEY)) {
            throw new IllegalArgumentException("Checkpoint.save: extra metadata must not be null nor replace 'format' or '"
                    + METADATA_KEY + "', got " + (extraMetadata == null ? null : extraMetadata.keySet()));
        }
        List<SafeTensors.Item> items = new ArrayList<>();
        for (Parameter parameter : model.parameters()) {
            items.add(item(parameter.name(), parameter.value()));
        }
        for (NamedTensor buffer : model.buffers()) {
            items.add(item(buffer.name(), buffer.tensor()));
        }
        Map<String, Object> generators = new LinkedHashMap<>();
        for (Counter counter : model.root().counters()) {
            if (counter.inStateDict()) {
                items.add(new SafeTensors.Item(counter.name(), "I64", new int[0],
                        MemorySegment.ofArray(new long[] {counter.value()})));
            } else {
                generators.put(counter.name(), counter.value());
            }
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("model", model.name());
        state.put("generators", generators);
        if (optimizer != null) {
            for (NamedTensor tensor : optimizer.state()) {
                items.add(item(OPTIMIZER_PREFIX + tensor.name(), tensor.tensor()));
            }
            Map<String, Object> optimizerFacts = new LinkedHashMap<>();
            optimizerFacts.put("type", optimizer.getClass().getSimpleName());
            optimizerFacts.put("steps", optimizer.stepCount());
            optimizerFacts.put("hyperparameters", optimizer.hyperparameters());
            optimizerFacts.put("param_groups", optimizer.parameterGroups());
            state.put("optimizer", optimizerFacts);
        }
        if (trainingState != null) {
            state.put("training", trainingState);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(METADATA_KEY, Json.write(state));
        metadata.putAll(extraMetadata);
        SafeTensors.write(file, items, metadata);
    }

    private static SafeTensors.Item item(String name, Tensor tensor) {
        return new SafeTensors.Item(name, "F32", tensor.shape().dims(), MemorySegment.ofArray(tensor.toFloatArray()));
    }

    /**
     * Loads weights, buffers and counters into {@code model} and, when {@code optimizer} is not
     * null, its state. Strict, like PyTorch's load_state_dict: a missing or unexpected name, or a
     * shape that differs, is an error naming the file, the tensor and both shapes, raised before
     * anything is changed.
     *
     * @param file the file
     * @param model the model
     * @param optimizer the optimizer
     * @return the saved training state (empty for a plain PyTorch state_dict)
     * @throws IOException when reading or writing the file fails
     */
    public static Map<String, Object> load(Path file, Model model, Optimizer optimizer) throws IOException {
        try (SafeTensors checkpoint = SafeTensors.open(file)) {
            Map<String, Tensor> targets = new LinkedHashMap<>();
            for (Parameter parameter : model.parameters()) {
                targets.put(parameter.name(), parameter.value());
            }
            for (NamedTensor buffer : model.buffers()) {
                targets.put(buffer.name(), buffer.tensor());
            }
            Set<String> counters = new LinkedHashSet<>();
            for (Counter counter : model.root().counters()) {
                if (counter.inStateDict()) {
                    counters.add(counter.name());
                }
            }
            Map<String, Tensor> optimizerTargets = new LinkedHashMap<>();
            if (optimizer != null) {
                for (NamedTensor tensor : optimizer.state()) {
                    optimizerTargets.put(OPTIMIZER_PREFIX + tensor.name(), tensor.tensor());
                }
            }

            List<String> problems = new ArrayList<>();
            checkTensors(checkpoint, targets, problems, "the model");
            if (optimizer != null) {
                checkTensors(checkpoint, optimizerTargets, problems, "the optimizer");
            }
            for (String counter : counters) {
                if (checkpoint.contains(counter)) {
                    SafeTensors.Entry entry = checkpoint.entry(counter);
                    if (entry.elementCount() != 1 || !(entry.dtype().equals("I64") || entry.dtype().equals("I32"))) {
                        problems.add(counter + " should be one integer, the file has " + entry.dtype() + " "
                                + java.util.Arrays.toString(entry.shape()));
                    }
                }
            }
            for (String name : checkpoint.entries().keySet()) {
                boolean known = targets.containsKey(name) || counters.contains(name)
                        || (name.startsWith(OPTIMIZER_PREFIX) && (optimizer == null || optimizerTargets.containsKey(name)));
                if (!known) {
                    problems.add("unexpected tensor " + name + " (not in " + model.name() + ")");
                }
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("checkpoint " + file + " does not fit " + model.name() + ": "
                        + String.join("; ", problems));
            }

            for (Map.Entry<String, Tensor> target : targets.entrySet()) {
                target.getValue().device().copyFromHost(checkpoint.bytes(target.getKey()), target.getValue());
            }
            for (Map.Entry<String, Tensor> target : optimizerTargets.entrySet()) {
                if (checkpoint.contains(target.getKey())) {
                    target.getValue().device().copyFromHost(checkpoint.bytes(target.getKey()), target.getValue());
                }
            }
            Map<String, Long> restored = new LinkedHashMap<>();
            for (String counter : counters) {
                if (checkpoint.contains(counter)) {
                    restored.put(counter, checkpoint.entry(counter).dtype().equals("I64")
                            ? checkpoint.bytes(counter).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)
                            : checkpoint.bytes(counter).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
                }
            }
            Map<String, Object> state = metadata(checkpoint);
            if (state.get("generators") instanceof Map<?, ?> generators) {
                for (Map.Entry<?, ?> generator : generators.entrySet()) {
                    restored.put(String.valueOf(generator.getKey()), ((Number) generator.getValue()).longValue());
                }
            }
            model.restoreCounters(restored);
            if (optimizer != null && state.get("optimizer") instanceof Map<?, ?> facts
                    && facts.get("steps") instanceof Number steps) {
                optimizer.setStepCount(steps.intValue());
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> training = state.get("training") instanceof Map<?, ?> map
                    ? (Map<String, Object>) map : Map.of();
            return training;
        }
    }

    /**
     * Loads into {@code model} what fits from {@code file}, as fine-tuning needs (PyTorch's
     * {@code load_state_dict(strict=False)}): every parameter, buffer and state_dict counter whose
     * name is in the file with the same shape (F32; counters one integer) is loaded; the rest is
     * left as it is and reported. Unlike PyTorch, which raises on a shape mismatch, a tensor of
     * another shape is skipped and listed, so that a 1000-class head does not stop a 5-class model
     * from taking the rest. Optimizer state and generator positions in the file are ignored: a
     * fine-tuning run starts its own.
     *
     * @param file the checkpoint file
     * @param model the model to fill
     * @return what was loaded, missing, unexpected and skipped for its shape
     * @throws IOException when the file cannot be read or is not a safetensors file
     */
    public static LoadReport loadMatching(Path file, Model model) throws IOException {
        if (file == null || model == null) {
            throw new IllegalArgumentException("Checkpoint.loadMatching: a file and a model are required");
        }
        try (SafeTensors checkpoint = SafeTensors.open(file)) {
            Map<String, Tensor> targets = new LinkedHashMap<>();
            for (Parameter parameter : model.parameters()) {
                targets.put(parameter.name(), parameter.value());
            }
            for (NamedTensor buffer : model.buffers()) {
                targets.put(buffer.name(), buffer.tensor());
            }
            Set<String> counters = new LinkedHashSet<>();
            for (Counter counter : model.root().counters()) {
                if (counter.inStateDict()) {
                    counters.add(counter.name());
                }
            }
            List<String> loaded = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            Map<String, Tensor> fitting = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> target : targets.entrySet()) {
                String name = target.getKey();
                if (!checkpoint.contains(name)) {
                    missing.add(name);
                    continue;
                }
                SafeTensors.Entry entry = checkpoint.entry(name);
                int[] modelShape = target.getValue().shape().dims();
                if (!entry.dtype().equals("F32") || !java.util.Arrays.equals(entry.shape(), modelShape)) {
                    mismatched.add(name + ": file " + entry.dtype() + " " + java.util.Arrays.toString(entry.shape())
                            + ", model F32 " + java.util.Arrays.toString(modelShape));
                    continue;
                }
                fitting.put(name, target.getValue());
            }
            Map<String, Long> restored = new LinkedHashMap<>();
            for (String counter : counters) {
                if (!checkpoint.contains(counter)) {
                    missing.add(counter);
                    continue;
                }
                SafeTensors.Entry entry = checkpoint.entry(counter);
                if (entry.elementCount() != 1 || !(entry.dtype().equals("I64") || entry.dtype().equals("I32"))) {
                    mismatched.add(counter + ": file " + entry.dtype() + " " + java.util.Arrays.toString(entry.shape())
                            + ", model one integer");
                    continue;
                }
                restored.put(counter, entry.dtype().equals("I64")
                        ? checkpoint.bytes(counter).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)
                        : checkpoint.bytes(counter).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            }
            List<String> unexpected = new ArrayList<>();
            for (String name : checkpoint.entries().keySet()) {
                if (!targets.containsKey(name) && !counters.contains(name) && !name.startsWith(OPTIMIZER_PREFIX)) {
                    unexpected.add(name);
                }
            }
            Map<String, Object> state = metadata(checkpoint);
            for (Map.Entry<String, Tensor> target : fitting.entrySet()) {
                target.getValue().device().copyFromHost(checkpoint.bytes(target.getKey()), target.getValue());
                loaded.add(target.getKey());
            }
            model.restoreCounters(restored);
            loaded.addAll(restored.keySet());
            @SuppressWarnings("unchecked")
            Map<String, Object> training = state.get("training") instanceof Map<?, ?> map
                    ? (Map<String, Object>) map : Map.of();
            return new LoadReport(loaded, missing, unexpected, mismatched, training);
        }
    }

    private static void checkTensors(SafeTensors checkpoint, Map<String, Tensor> targets, List<String> problems,
                                     String owner) {
        for (Map.Entry<String, Tensor> target : targets.entrySet()) {
            String name = target.getKey();
            if (!checkpoint.contains(name)) {
                if (owner.equals("the model")) {
                    problems.add("missing " + name);
                }
                continue;
            }
            SafeTensors.Entry entry = checkpoint.entry(name);
            if (!entry.dtype().equals("F32")) {
                problems.add(name + " is " + entry.dtype() + " in the file, " + owner + " needs F32");
            } else if (!java.util.Arrays.equals(entry.shape(), target.getValue().shape().dims())) {
                problems.add(name + " has shape " + java.util.Arrays.toString(entry.shape()) + " in the file, "
                        + owner + " expects " + target.getValue().shape());
            }
        }
    }

    /** The training facts saved under the {@code isthmus} metadata entry (empty when absent). */
    private static Map<String, Object> metadata(SafeTensors checkpoint) {
        String text = checkpoint.metadata().get(METADATA_KEY);
        if (text == null) {
            return Map.of();
        }
        try {
            return Json.parseObject(text);
        } catch (Json.ParseException bad) {
            throw new FileFormatException(checkpoint.file(), 8, "the isthmus metadata is not valid JSON: " + bad.getMessage());
        }
    }
}
