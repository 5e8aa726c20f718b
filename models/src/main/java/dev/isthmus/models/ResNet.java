package dev.isthmus.models;

import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.GlobalAvgPool2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Residual;
import dev.isthmus.nn.Sequential;

/**
 * Residual networks with torchvision's parameter names: CIFAR ResNets (He et al. 2016, 6n+2
 * layers, 1×1 projection shortcuts, as shared/peers/torch_models.py) and the ImageNet ResNet-18/34
 * (basic blocks) and ResNet-50 (bottlenecks, stride on the 3×3 conv as torchvision's v1.5).
 */
public final class ResNet {
    private ResNet() {
    }

    /** A 3×3 convolution keeping the size (or halving it with stride 2), no bias: batch norm follows. */
    private static Conv2d conv3x3(int inChannels, int outChannels, int stride) {
        return Conv2d.of(inChannels, outChannels, 3).stride(stride).padding(1).bias(false);
    }

    private static Conv2d conv1x1(int inChannels, int outChannels, int stride) {
        return Conv2d.of(inChannels, outChannels, 1).stride(stride).bias(false);
    }

    /** conv3×3 → bn → relu → conv3×3 → bn, plus the identity or a 1×1 projection, then relu. */
    static Residual basicBlock(int inChannels, int outChannels, int stride) {
        Sequential main = new Sequential()
                .add("conv1", conv3x3(inChannels, outChannels, stride))
                .add("bn1", new BatchNorm2d(outChannels)).add("relu", new ReLU())
                .add("conv2", conv3x3(outChannels, outChannels, 1))
                .add("bn2", new BatchNorm2d(outChannels));
        return new Residual(main, projection(inChannels, outChannels, stride), true);
    }

    /** conv1×1 → bn → relu → conv3×3 (stride) → bn → relu → conv1×1 (×4) → bn, plus shortcut, then relu. */
    static Residual bottleneck(int inChannels, int width, int stride) {
        int outChannels = width * 4;
        Sequential main = new Sequential()
                .add("conv1", conv1x1(inChannels, width, 1))
                .add("bn1", new BatchNorm2d(width)).add("relu1", new ReLU())
                .add("conv2", conv3x3(width, width, stride))
                .add("bn2", new BatchNorm2d(width)).add("relu2", new ReLU())
                .add("conv3", conv1x1(width, outChannels, 1))
                .add("bn3", new BatchNorm2d(outChannels));
        return new Residual(main, projection(inChannels, outChannels, stride), true);
    }

    private static Layer projection(int inChannels, int outChannels, int stride) {
        if (stride == 1 && inChannels == outChannels) {
            return null;
        }
        return new Sequential(conv1x1(inChannels, outChannels, stride), new BatchNorm2d(outChannels));
    }

    /**
     * CIFAR ResNet-(6n+2): n = 3 gives ResNet-20 (272,474 parameters), 5 → 32, 7 → 44, 9 → 56.
     *
     * @param n the basic blocks per stage
     * @param inChannels the input channels
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential cifar(int n, int inChannels, int classes) {
        if (n <= 0) {
            throw new IllegalArgumentException("CIFAR ResNet: blocks per stage must be > 0, got " + n);
        }
        Sequential model = new Sequential()
                .add("conv1", conv3x3(inChannels, 16, 1))
                .add("bn1", new BatchNorm2d(16)).add("relu", new ReLU());
        int channels = 16;
        int stage = 1;
        for (int width : new int[] {16, 32, 64}) {
            Sequential blocks = new Sequential();
            for (int b = 0; b < n; b++) {
                blocks.add(basicBlock(channels, width, b == 0 && stage > 1 ? 2 : 1));
                channels = width;
            }
            model.add("layer" + stage++, blocks);
        }
        return model.add("avgpool", new GlobalAvgPool2d()).add("flatten", new Flatten()).add("fc", new Linear(64, classes));
    }

    /**
     * ImageNet ResNet-18 ([2,2,2,2]), -34 ([3,4,6,3]) with basic blocks, -50 ([3,4,6,3]) with bottlenecks.
     *
     * @param depth 18, 34 or 50
     * @param inChannels the input channels
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential imagenet(int depth, int inChannels, int classes) {
        int[] blocks = switch (depth) {
            case 18 -> new int[] {2, 2, 2, 2};
            case 34, 50 -> new int[] {3, 4, 6, 3};
            default -> throw new IllegalArgumentException("ResNet depth must be 18, 34 or 50, got " + depth);
        };
        boolean bottleneck = depth == 50;
        Sequential model = new Sequential()
                .add("conv1", Conv2d.of(inChannels, 64, 7).stride(2).padding(3).bias(false))
                .add("bn1", new BatchNorm2d(64)).add("relu", new ReLU())
                .add("maxpool", MaxPool2d.of(3).stride(2).padding(1));
        int channels = 64;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            Sequential layer = new Sequential();
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = b == 0 && stage > 0 ? 2 : 1;
                if (bottleneck) {
                    layer.add(bottleneck(channels, widths[stage], stride));
                    channels = widths[stage] * 4;
                } else {
                    layer.add(basicBlock(channels, widths[stage], stride));
                    channels = widths[stage];
                }
            }
            model.add("layer" + (stage + 1), layer);
        }
        return model.add("avgpool", new GlobalAvgPool2d()).add("flatten", new Flatten()).add("fc", new Linear(channels, classes));
    }
}
