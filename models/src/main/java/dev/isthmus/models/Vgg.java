package dev.isthmus.models;

import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/**
 * VGG-style networks for 32×32 inputs. {@code features.N} and {@code classifier.N} are numbered
 * as torchvision numbers them (every conv, batch norm, ReLU and pool takes an index).
 */
public final class Vgg {
    private static final int POOL = -1;

    /** Configurations A, B, D, E of Simonyan & Zisserman (VGG-11, 13, 16, 19). */
    static int[] configuration(int depth) {
        int m = POOL;
        return switch (depth) {
            case 11 -> new int[] {64, m, 128, m, 256, 256, m, 512, 512, m, 512, 512, m};
            case 13 -> new int[] {64, 64, m, 128, 128, m, 256, 256, m, 512, 512, m, 512, 512, m};
            case 16 -> new int[] {64, 64, m, 128, 128, m, 256, 256, 256, m, 512, 512, 512, m, 512, 512, 512, m};
            case 19 -> new int[] {64, 64, m, 128, 128, m, 256, 256, 256, 256, m, 512, 512, 512, 512, m, 512, 512, 512, 512, m};
            default -> throw new IllegalArgumentException("VGG depth must be 11, 13, 16 or 19, got " + depth);
        };
    }

    private Vgg() {
    }

    static Sequential features(int[] configuration, int inChannels, boolean batchNorm) {
        Sequential features = new Sequential();
        int channels = inChannels;
        for (int width : configuration) {
            if (width == POOL) {
                features.add(new MaxPool2d(2));
                continue;
            }
            features.add(Conv2d.of(channels, width, 3).padding(1));
            if (batchNorm) {
                features.add(new BatchNorm2d(width));
            }
            features.add(new ReLU());
            channels = width;
        }
        return features;
    }

    /**
     * The canonical benchmark's VGG-small: [conv3×3·32, relu]×2, maxpool, [conv3×3·64, relu]×2,
     * maxpool, fc256, relu, fc(classes); with batch norm after every conv for VGG-small-BN.
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     * @param batchNorm whether to put batch norm after every convolution
     * @return the canonical benchmark's VGG-small: [conv3×3·32, relu]×2, maxpool, [conv3×3·64, relu]×2, maxpool, fc256, relu, fc(classes); with batch norm after every conv for VGG-small-BN
     */
    public static Sequential small(int inChannels, int classes, boolean batchNorm) {
        int[] configuration = {32, 32, POOL, 64, 64, POOL};
        return new Sequential()
                .add("features", features(configuration, inChannels, batchNorm))
                .add("flatten", new Flatten())
                .add("classifier", new Sequential(new Linear(64 * 8 * 8, 256), new ReLU(), new Linear(256, classes)));
    }

    /**
     * VGG-11/13/16/19 for CIFAR-sized (32×32) inputs: the torchvision feature extractor, whose five
     * pools leave 512×1×1, then classifier Linear(512, 512), ReLU, Dropout(0.5), Linear(512, 512),
     * ReLU, Dropout(0.5), Linear(512, classes) in place of ImageNet's 4096-wide head.
     *
     * @param depth 11, 13, 16 or 19
     * @param inChannels the input channels
     * @param classes the number of classes
     * @param batchNorm whether to put batch norm after every convolution
     * @return the network
     */
    public static Sequential cifar(int depth, int inChannels, int classes, boolean batchNorm) {
        return new Sequential()
                .add("features", features(configuration(depth), inChannels, batchNorm))
                .add("flatten", new Flatten())
                .add("classifier", new Sequential(new Linear(512, 512), new ReLU(), new Dropout(0.5f),
                        new Linear(512, 512), new ReLU(), new Dropout(0.5f), new Linear(512, classes)));
    }
}
