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
     * [channels, height, width], or clips [channels, frames, height, width] where frames > 0; and its
     * usual number of classes (10; the ImageNet ResNets' 1000, as torchvision's).
     *
     * @param name the model's name ("resnet20")
     * @param description one line saying what the model is
     * @param channels the input channels it was designed for
     * @param frames the clip length for clip models, 0 for image models
     * @param height the input height
     * @param width the input width
     * @param classes the number of classes it was designed for
     * @param factory makes the network for given channels and classes
     */
    public record Entry(String name, String description, int channels, int frames, int height, int width, int classes,
                        Factory factory) {
        /**
         * {@return a new, unbuilt model for {@code inChannels} channels and {@code classes} classes}
         *
         * @param inChannels the input channels
         * @param classes the number of classes
         */
        public Model create(int inChannels, int classes) {
            if (inChannels <= 0 || classes <= 0) {
                throw new IllegalArgumentException(name + ": channels and classes must be > 0");
            }
            return new Model(name, factory.create(inChannels, classes), sampleShape(inChannels));
        }

        /** {@return whether the model gives a class per pixel (logits [N, C, H, W]) rather than per sample} */
        public boolean isSegmentation() {
            return SEGMENTATION.contains(name);
        }

        /** {@return whether samples are clips (video) rather than images} */
        public boolean isClip() {
            return frames > 0;
        }

        /**
         * {@return one sample's shape with this many channels}
         *
         * @param inChannels the input channels
         */
        public Shape sampleShape(int inChannels) {
            return isClip() ? Shape.of(inChannels, frames, height, width) : Shape.of(inChannels, height, width);
        }

        /** {@return a new, unbuilt model with the model's own channels and classes} */
        public Model create() {
            return create(channels, classes);
        }
    }

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();
    /** The entries whose output is a class per pixel; their data is a SegmentationDataset. */
    private static final java.util.Set<String> SEGMENTATION = java.util.Set.of("unet", "unet-small");

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
            add("resnet" + depth, "ResNet-" + depth + " (torchvision), 224x224, 1000 classes", 3, 224, 1000,
                    (c, k) -> ResNet.imagenet(depth, c, k));
        }
        add("alexnet", "AlexNet (torchvision), 224x224, 1000 classes", 3, 224, 1000, AlexNet::torchvision);
        add("alexnet-small", "AlexNet for 32x32: convs 64-192-384-256-256 with LRN, fc 1024", 3, 32, AlexNet::small);
        add("googlenet", "GoogLeNet / Inception v1 (torchvision, no aux heads), 224x224, 1000 classes", 3, 224, 1000,
                GoogLeNet::torchvision);
        add("googlenet-small", "GoogLeNet for 32x32: the nine Inception blocks at quarter width, 3x3 stem", 3, 32,
                GoogLeNet::small);
        add("unet", "U-Net (Ronneberger et al. 2015), padding 1: depth 4, width 64, 1x128x128, 2 classes", 1, 128, 2,
                UNet::paper);
        add("unet-small", "U-Net for CPUs: depth 3, width 8 (8-64 channels), batch norm, 1x32x32, 3 classes", 1, 32, 3,
                UNet::small);
        addClip("c3d", "C3D (Tran et al. 2015): 8 3x3x3 convs, fc6/fc7 4096, 16x112x112 clips", 3, 16, 112,
                (c, k) -> C3d.paper(c, k, 16, 112));
        addClip("c3d-small", "C3D-small for CPUs: 4 3x3x3 convs (8-32 wide), fc 128, 8x32x32 clips", 3, 8, 32,
                (c, k) -> C3d.small(c, k, 8, 32));
    }

    private static void add(String name, String description, int channels, int side, Factory factory) {
        add(name, description, channels, side, 10, factory);
    }

    private static void add(String name, String description, int channels, int side, int classes, Factory factory) {
        ENTRIES.put(name, new Entry(name, description, channels, 0, side, side, classes, factory));
    }

    private static void addClip(String name, String description, int channels, int frames, int side, Factory factory) {
        ENTRIES.put(name, new Entry(name, description, channels, frames, side, side, 10, factory));
    }

    private Zoo() {
    }

    /** {@return every model of the zoo, in the order {@code isthmus} lists them} */
    public static List<Entry> entries() {
        return List.copyOf(ENTRIES.values());
    }

    /**
     * {@return the zoo's model named {@code name}; throws naming the known ones when there is none}
     *
     * @param name the model's name ("resnet20")
     */
    public static Entry entry(String name) {
        Entry entry = ENTRIES.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("unknown model '" + name + "' (models: " + String.join(", ", ENTRIES.keySet()) + ")");
        }
        return entry;
    }
}
