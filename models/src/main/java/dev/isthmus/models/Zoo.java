package dev.isthmus.models;

import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The model zoo by name: what {@code isthmus summary|train|bench MODEL} accept. */
public final class Zoo {
    /** How to build one model family member for a number of input channels and classes. */
    @FunctionalInterface
    interface Factory {
        Layer create(int inChannels, int classes);
    }

    /**
     * A model the zoo can build, with its native input (channels can be changed): images
     * [channels, height, width], or clips [channels, frames, height, width] where frames > 0.
     */
    public record Entry(String name, String description, int channels, int frames, int height, int width, Factory factory) {
        public Model create(int inChannels, int classes) {
            if (inChannels <= 0 || classes <= 0) {
                throw new IllegalArgumentException(name + ": channels and classes must be > 0");
            }
            return new Model(name, factory.create(inChannels, classes), sampleShape(inChannels));
        }

        /** Whether samples are clips (video) rather than images. */
        public boolean isClip() {
            return frames > 0;
        }

        /** One sample's shape with this many channels. */
        public Shape sampleShape(int inChannels) {
            return isClip() ? Shape.of(inChannels, frames, height, width) : Shape.of(inChannels, height, width);
        }

        public Model create() {
            return create(channels, 10);
        }
    }

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

    static {
        add("lenet5", "LeNet-5 for 28x28 images", 1, 28, LeNet5::create);
        add("mlp", "MLP 784-256-128-classes for 28x28 images", 1, 28,
                (c, k) -> Mlp.create(c * 28 * 28, new int[] {256, 128}, k));
        add("vgg-small", "VGG-small: [conv32]x2, pool, [conv64]x2, pool, fc256 (32x32)", 3, 32,
                (c, k) -> Vgg.small(c, k, false));
        add("vgg-small-bn", "VGG-small with batch norm after every conv (32x32)", 3, 32, (c, k) -> Vgg.small(c, k, true));
        for (int depth : new int[] {11, 13, 16, 19}) {
            add("vgg" + depth, "VGG-" + depth + " for 32x32 inputs", 3, 32, (c, k) -> Vgg.cifar(depth, c, k, false));
            add("vgg" + depth + "-bn", "VGG-" + depth + " with batch norm, 32x32", 3, 32, (c, k) -> Vgg.cifar(depth, c, k, true));
        }
        for (int n : new int[] {3, 5, 7, 9}) {
            int depth = 6 * n + 2;
            add("resnet" + depth, "CIFAR ResNet-" + depth + " (He et al. 2016), 32x32", 3, 32, (c, k) -> ResNet.cifar(n, c, k));
        }
        for (int depth : new int[] {18, 34, 50}) {
            add("resnet" + depth, "ResNet-" + depth + " (torchvision), 224x224", 3, 224, (c, k) -> ResNet.imagenet(depth, c, k));
        }
        addClip("c3d", "C3D (Tran et al. 2015): 8 3x3x3 convs, fc6/fc7 4096, 16x112x112 clips", 3, 16, 112,
                (c, k) -> C3d.paper(c, k, 16, 112));
        addClip("c3d-small", "C3D-small for CPUs: 4 3x3x3 convs (8-32 wide), fc 128, 8x32x32 clips", 3, 8, 32,
                (c, k) -> C3d.small(c, k, 8, 32));
    }

    private static void add(String name, String description, int channels, int side, Factory factory) {
        ENTRIES.put(name, new Entry(name, description, channels, 0, side, side, factory));
    }

    private static void addClip(String name, String description, int channels, int frames, int side, Factory factory) {
        ENTRIES.put(name, new Entry(name, description, channels, frames, side, side, factory));
    }

    private Zoo() {
    }

    public static List<Entry> entries() {
        return List.copyOf(ENTRIES.values());
    }

    public static Entry entry(String name) {
        Entry entry = ENTRIES.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("unknown model '" + name + "' (models: " + String.join(", ", ENTRIES.keySet()) + ")");
        }
        return entry;
    }
}
