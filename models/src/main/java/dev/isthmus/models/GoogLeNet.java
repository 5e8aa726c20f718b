package dev.isthmus.models;

import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Concat;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/**
 * GoogLeNet, Inception v1 (Szegedy et al. 2014), as torchvision 0.14's {@code googlenet(aux_logits=False,
 * transform_input=False)}: layer for layer and name for name ({@code conv1.conv.weight},
 * {@code inception3a.branch2.1.bn.running_mean}, … {@code fc.bias}), so its state_dict loads as it is.
 * torchvision's choices are kept: every convolution is a {@code BasicConv2d} (convolution without bias,
 * batch norm with eps 0.001, ReLU), the "5×5" branch uses a 3×3 convolution, and the max pools round
 * their output size up ({@code ceil_mode=True}). No auxiliary classifiers.
 */
public final class GoogLeNet {
    /**
     * The nine Inception blocks: name, then torchvision's (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5,
     * pool_proj); a block's input is the previous block's four outputs together.
     */
    private static final Object[][] BLOCKS = {
        {"inception3a", new int[] {64, 96, 128, 16, 32, 32}},
        {"inception3b", new int[] {128, 128, 192, 32, 96, 64}},
        {"inception4a", new int[] {192, 96, 208, 16, 48, 64}},
        {"inception4b", new int[] {160, 112, 224, 24, 64, 64}},
        {"inception4c", new int[] {128, 128, 256, 24, 64, 64}},
        {"inception4d", new int[] {112, 144, 288, 32, 64, 64}},
        {"inception4e", new int[] {256, 160, 320, 32, 128, 128}},
        {"inception5a", new int[] {256, 160, 320, 32, 128, 128}},
        {"inception5b", new int[] {384, 192, 384, 48, 128, 128}},
    };

    private GoogLeNet() {
    }

    /**
     * torchvision's {@code googlenet(num_classes=classes)} without auxiliary heads: 6,624,904 parameters
     * for 1000 classes, made for 224×224 inputs.
     *
     * @param inChannels the input channels (3 for RGB)
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential torchvision(int inChannels, int classes) {
        return build(inChannels, classes, 1, true);
    }

    /**
     * A CIFAR-sized GoogLeNet for CPUs: the same blocks and names at a quarter of the width (16 to 96
     * channels per branch, 256 features), a 3×3 stride-1 stem and no stem pools, so 32×32 inputs reach
     * the 3-blocks at 32×32, the 4-blocks at 16×16 and the 5-blocks at 8×8. 355,138 parameters for 10 classes.
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential small(int inChannels, int classes) {
        return build(inChannels, classes, 4, false);
    }

    private static Sequential build(int inChannels, int classes, int narrowing, boolean imagenetStem) {
        Sequential net = new Sequential();
        if (imagenetStem) {
            net.add("conv1", basic(inChannels, 64, 7, 2, 3))
                    .add("maxpool1", new MaxPool2d(3, 2, 0, true))
                    .add("conv2", basic(64, 64, 1, 1, 0))
                    .add("conv3", basic(64, 192, 3, 1, 1))
                    .add("maxpool2", new MaxPool2d(3, 2, 0, true));
        } else {
            net.add("conv1", basic(inChannels, 64 / narrowing, 3, 1, 1))
                    .add("conv2", basic(64 / narrowing, 64 / narrowing, 1, 1, 0))
                    .add("conv3", basic(64 / narrowing, 192 / narrowing, 3, 1, 1));
        }
        int channels = 192 / narrowing;
        for (Object[] block : BLOCKS) {
            String name = (String) block[0];
            int[] widths = ((int[]) block[1]).clone();
            for (int i = 0; i < widths.length; i++) {
                widths[i] /= narrowing;
            }
            if (name.equals("inception4a")) {
                net.add("maxpool3", new MaxPool2d(3, 2, 0, true));
            } else if (name.equals("inception5a")) {
                net.add("maxpool4", new MaxPool2d(2, 2, 0, true));
            }
            net.add(name, inception(channels, widths));
            channels = widths[0] + widths[2] + widths[4] + widths[5];
        }
        return net.add("avgpool", new AdaptiveAvgPool2d(1, 1))
                .add("flatten", new Flatten())
                .add("dropout", new Dropout(0.2f))
                .add("fc", new Linear(channels, classes));
    }

    /** torchvision's Inception block: four branches on the same input, concatenated. */
    private static Concat inception(int in, int[] widths) {
        return new Concat()
                .add("branch1", basic(in, widths[0], 1, 1, 0))
                .add("branch2", new Sequential(basic(in, widths[1], 1, 1, 0), basic(widths[1], widths[2], 3, 1, 1)))
                .add("branch3", new Sequential(basic(in, widths[3], 1, 1, 0), basic(widths[3], widths[4], 3, 1, 1)))
                .add("branch4", new Sequential(new MaxPool2d(3, 1, 1, true), basic(in, widths[5], 1, 1, 0)));
    }

    /** torchvision's BasicConv2d: conv (no bias), bn (eps 0.001), ReLU. */
    private static Sequential basic(int in, int out, int kernel, int stride, int padding) {
        return new Sequential()
                .add("conv", new Conv2d(in, out, kernel, stride, padding, false))
                .add("bn", new BatchNorm2d(out, 0.001f, 0.1f, true))
                .add("relu", new ReLU());
    }
}
