package dev.isthmus.io;

import dev.isthmus.data.ImageTransform;
import dev.isthmus.data.Normalization;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a classifier's checkpoint needs besides its weights to be used on new images: the class
 * names (index = label) and how an image became an input sample (channels, size, resize and
 * crop, normalisation). {@code isthmus train} writes it into the checkpoint's safetensors metadata
 * and {@code isthmus predict} reads it back, so an image is prepared exactly as in training.
 *
 * <p>Three metadata entries, each JSON text (safetensors metadata values are strings), readable
 * from Python with {@code safe_open(file, "pt").metadata()}:
 * <ul>
 *   <li>{@code class_names}: a list of strings; absent when the dataset has no names (IDX files);</li>
 *   <li>{@code num_classes}: the number of classes;</li>
 *   <li>{@code preprocessing}: {@code {"channels", "height", "width", "resize", "center_crop",
 *       "interpolation": "bilinear", "antialias": true, "scale": 255, "normalization": {"mean",
 *       "std"}}}, with null for a resize, crop or normalisation that was not used; a pixel x
 *       becomes x / scale, then (· − mean) / std per channel.</li>
 * </ul>
 *
 * @param classNames    null when unknown
 * @param transform     null when the checkpoint does not say (PyTorch state_dicts, older checkpoints)
 * @param normalization null for pixels left in [0, 1]
 * @param classes the number of classes
 */
public record InputMetadata(List<String> classNames, int classes, ImageTransform transform, Normalization normalization) {
    public static final String CLASS_NAMES = "class_names";
    public static final String NUM_CLASSES = "num_classes";
    public static final String PREPROCESSING = "preprocessing";

    /** Checks the class names against the class count. */
    public InputMetadata {
        if (classes < 1) {
            throw new IllegalArgumentException("InputMetadata: classes must be >= 1, got " + classes);
        }
        if (classNames != null) {
            classNames = List.copyOf(classNames);
            if (classNames.size() != classes) {
                throw new IllegalArgumentException("InputMetadata: " + classNames.size() + " class names for " + classes
                        + " classes");
            }
        }
        if (transform != null && normalization != null && normalization.channels() != transform.channels()) {
            throw new IllegalArgumentException("InputMetadata: normalization has " + normalization.channels()
                    + " channels, images have " + transform.channels());
        }
    }

    /**
     * The metadata entries to save with {@link Checkpoint#save(Path, dev.isthmus.nn.Model, dev.isthmus.optim.Optimizer, Map, Map)}.
     *
     * @return the metadata entries to save with {@link Checkpoint#save(Path, dev.isthmus.nn.Model, dev.isthmus.optim.Optimizer, Map, Map)}
     */
    public Map<String, String> toMetadata() {
        Map<String, String> entries = new LinkedHashMap<>();
        if (classNames != null) {
            entries.put(CLASS_NAMES, Json.write(classNames));
        }
        entries.put(NUM_CLASSES, Long.toString(classes));
        if (transform != null) {
            Map<String, Object> preprocessing = new LinkedHashMap<>();
            preprocessing.put("channels", transform.channels());
            preprocessing.put("height", transform.height());
            preprocessing.put("width", transform.width());
            preprocessing.put("resize", transform.resize() == 0 ? null : transform.resize());
            preprocessing.put("center_crop", transform.centerCrop() == 0 ? null : transform.centerCrop());
            preprocessing.put("interpolation", "bilinear");
            preprocessing.put("antialias", true);
            preprocessing.put("scale", 255);
            if (normalization == null) {
                preprocessing.put("normalization", null);
            } else {
                Map<String, Object> statistics = new LinkedHashMap<>();
                statistics.put("mean", floats(normalization.mean()));
                statistics.put("std", floats(normalization.std()));
                preprocessing.put("normalization", statistics);
            }
            entries.put(PREPROCESSING, Json.write(preprocessing));
        }
        return entries;
    }

    private static List<Float> floats(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float value : values) {
            list.add(value);
        }
        return list;
    }

    /**
     * The input metadata of a checkpoint file, or null when it has none.
     *
     * @param checkpoint the checkpoint file
     * @return the input metadata of a checkpoint file, or null when it has none
     * @throws IOException when reading or writing the file fails
     */
    public static InputMetadata read(Path checkpoint) throws IOException {
        try (SafeTensors file = SafeTensors.open(checkpoint)) {
            return fromMetadata(file.metadata(), checkpoint);
        }
    }

    /**
     * Parses the entries written by {@link #toMetadata()}; null when none of them is there.
     *
     * @param metadata the metadata entries
     * @param file the file
     * @return the metadata, or null when the file has none
     * @throws FileFormatException naming {@code file} when an entry is malformed
     */
    public static InputMetadata fromMetadata(Map<String, String> metadata, Path file) {
        if (!metadata.containsKey(CLASS_NAMES) && !metadata.containsKey(NUM_CLASSES) && !metadata.containsKey(PREPROCESSING)) {
            return null;
        }
        try {
            List<String> names = null;
            if (metadata.containsKey(CLASS_NAMES)) {
                if (!(Json.parse(metadata.get(CLASS_NAMES)) instanceof List<?> list)) {
                    throw new IllegalArgumentException(CLASS_NAMES + " is not a list");
                }
                names = new ArrayList<>();
                for (Object name : list) {
                    if (!(name instanceof String text)) {
                        throw new IllegalArgumentException(CLASS_NAMES + " holds " + name + ", not a string");
                    }
                    names.add(text);
                }
            }
            int classes = metadata.containsKey(NUM_CLASSES) ? Integer.parseInt(metadata.get(NUM_CLASSES).trim())
                    : names != null ? names.size() : 0;
            ImageTransform transform = null;
            Normalization normalization = null;
            if (metadata.containsKey(PREPROCESSING)) {
                Map<String, Object> preprocessing = Json.parseObject(metadata.get(PREPROCESSING));
                transform = new ImageTransform(integer(preprocessing, "channels", false), integer(preprocessing, "height", false),
                        integer(preprocessing, "width", false), integer(preprocessing, "resize", true),
                        integer(preprocessing, "center_crop", true));
                if (preprocessing.get("normalization") instanceof Map<?, ?> statistics) {
                    normalization = new Normalization(floatArray(statistics.get("mean")), floatArray(statistics.get("std")));
                } else if (preprocessing.get("normalization") != null) {
                    throw new IllegalArgumentException("normalization is neither null nor {mean, std}");
                }
            }
            return new InputMetadata(names, classes, transform, normalization);
        } catch (IllegalArgumentException malformed) {
            throw new FileFormatException(file, 8, "its class names or preprocessing metadata are malformed: "
                    + malformed.getMessage());
        }
    }

    private static int integer(Map<String, Object> map, String key, boolean optional) {
        Object value = map.get(key);
        if (value == null && optional) {
            return 0;
        }
        if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
                || Math.abs(number.doubleValue()) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("preprocessing." + key + " is " + value + ", not an integer");
        }
        return number.intValue();
    }

    private static float[] floatArray(Object value) {
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("normalization statistics " + value + " are not a list");
        }
        float[] values = new float[list.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(list.get(i) instanceof Number number)) {
                throw new IllegalArgumentException("normalization value " + list.get(i) + " is not a number");
            }
            values[i] = number.floatValue();
        }
        return values;
    }
}
