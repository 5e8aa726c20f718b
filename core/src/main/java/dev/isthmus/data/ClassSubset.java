package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The samples of some classes of a dataset, relabelled by their class's position in the list
 * (classes 5–9 become labels 0–4), as a fine-tuning task on part of a dataset needs. The sample
 * indices are found once, by reading every label.
 */
public final class ClassSubset implements Dataset {
    private final Dataset source;
    private final int[] classes;
    private final int[] labelOf;
    private final int[] indices;

    /**
     * The samples of {@code source} whose label is one of {@code classes}, relabelled 0, 1, … in that order.
     *
     * @param classes the source classes to keep, each once, in the order that gives the new labels
     * @param source the data set to draw from
     * @throws IllegalArgumentException when a class is outside the source's [0, classes) or repeated
     */
    public ClassSubset(Dataset source, int... classes) {
        if (source == null || classes == null || classes.length == 0) {
            throw new IllegalArgumentException("ClassSubset: a dataset and at least one class are required");
        }
        if (source.labelShape().rank() != 0) {
            throw new IllegalArgumentException("ClassSubset: " + source.describe() + " has a class per pixel "
                    + source.labelShape() + ", not one class per sample to select by");
        }
        labelOf = new int[source.classes()];
        Arrays.fill(labelOf, -1);
        for (int position = 0; position < classes.length; position++) {
            int c = classes[position];
            if (c < 0 || c >= source.classes()) {
                throw new IllegalArgumentException("ClassSubset: class " + c + " is outside [0, " + source.classes() + ") of "
                        + source.describe());
            }
            if (labelOf[c] >= 0) {
                throw new IllegalArgumentException("ClassSubset: class " + c + " is listed twice");
            }
            labelOf[c] = position;
        }
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < source.size(); i++) {
            if (labelOf[source.label(i)] >= 0) {
                kept.add(i);
            }
        }
        this.source = source;
        this.classes = classes.clone();
        this.indices = kept.stream().mapToInt(Integer::intValue).toArray();
    }

    private int checked(int index) {
        if (index < 0 || index >= indices.length) {
            throw new IllegalArgumentException("ClassSubset: index " + index + " is outside [0, " + indices.length + ")");
        }
        return indices[index];
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public Shape sampleShape() {
        return source.sampleShape();
    }

    @Override
    public int classes() {
        return classes.length;
    }

    @Override
    public int label(int index) {
        return labelOf[source.label(checked(index))];
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        source.read(checked(index), destination, floatOffset);
    }

    @Override
    public String describe() {
        return source.describe() + ", classes " + Arrays.toString(classes) + " (" + indices.length + " samples)";
    }
}
