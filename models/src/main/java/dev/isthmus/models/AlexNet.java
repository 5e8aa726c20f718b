package dev.isthmus.models;

import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.LocalResponseNorm;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/**
 * AlexNet (Krizhevsky et al. 2012). {@link #torchvision} is torchvision 0.14's {@code alexnet}, layer for
 * layer and name for name ({@code features.0.weight} … {@code classifier.6.bias}), so its state_dict loads
 * as it is; {@link #small} is a CIFAR-sized cut with the paper's local response normalisation.
 */
public final class AlexNet {
    private AlexNet() {
    }

    /**
     * torchvision's {@code alexnet(num_classes=classes)}: features (conv 11×11/4 64, pool, conv 5×5 192,
     * pool, conv 3×3 384, 256, 256, pool), avgpool {@code AdaptiveAvgPool2d((6, 6))}, classifier
     * (Dropout, Linear(9216, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Linear(4096, classes)).
     * 61,100,840 parameters for 1000 classes; made for 224×224 inputs (any size from 63×63 works: the
     * adaptive pool brings the features to 6×6).
     *
     * @param inChannels the input channels (3 for RGB)
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential torchvision(int inChannels, int classes) {
        Sequential features = new Sequential(
                Conv2d.of(inChannels, 64, 11).stride(4).padding(2), new ReLU(), new MaxPool2d(3, 2, 0),
                Conv2d.of(64, 192, 5).padding(2), new ReLU(), new MaxPool2d(3, 2, 0),
                Conv2d.of(192, 384, 3).padding(1), new ReLU(),
                Conv2d.of(384, 256, 3).padding(1), new ReLU(),
                Conv2d.of(256, 256, 3).padding(1), new ReLU(), new MaxPool2d(3, 2, 0));
        return new Sequential()
                .add("features", features)
                .add("avgpool", new AdaptiveAvgPool2d(6, 6))
                .add("flatten", new Flatten())
                .add("classifier", classifier(256 * 6 * 6, 4096, classes));
    }

    /**
     * AlexNet for 32×32 inputs (CIFAR): features 0 conv 5×5 64 (padding 2), 1 ReLU,
     * 2 LocalResponseNorm(5, 1e-4, 0.75, 2) as in the paper, 3 max pool 3/2 (to 15×15), 4 conv 5×5 192,
     * 5 ReLU, 6 LocalResponseNorm, 7 max pool (to 7×7), 8 conv 3×3 384, 10 conv 3×3 256, 12 conv 3×3 256
     * (each followed by a ReLU), 14 max pool (to 3×3); avgpool {@code AdaptiveAvgPool2d((2, 2))} (overlapping
     * 2×2 windows of the 3×3 map); classifier Dropout, Linear(1024, 1024), ReLU, Dropout,
     * Linear(1024, 1024), ReLU, Linear(1024, classes). 4,560,714 parameters for 10 classes.
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     * @return the network
     */
    public static Sequential small(int inChannels, int classes) {
        Sequential features = new Sequential(
                Conv2d.of(inChannels, 64, 5).padding(2), new ReLU(), paperNorm(), new MaxPool2d(3, 2, 0),
                Conv2d.of(64, 192, 5).padding(2), new ReLU(), paperNorm(), new MaxPool2d(3, 2, 0),
                Conv2d.of(192, 384, 3).padding(1), new ReLU(),
                Conv2d.of(384, 256, 3).padding(1), new ReLU(),
                Conv2d.of(256, 256, 3).padding(1), new ReLU(), new MaxPool2d(3, 2, 0));
        return new Sequential()
                .add("features", features)
                .add("avgpool", new AdaptiveAvgPool2d(2, 2))
                .add("flatten", new Flatten())
                .add("classifier", classifier(256 * 2 * 2, 1024, classes));
    }

    /** The paper's normalisation: n = 5, α = 1e-4, β = 0.75, k = 2. */
    private static LocalResponseNorm paperNorm() {
        return new LocalResponseNorm(5, 1e-4, 0.75, 2.0);
    }

    private static Sequential classifier(int features, int hidden, int classes) {
        return new Sequential(new Dropout(0.5f), new Linear(features, hidden), new ReLU(),
                new Dropout(0.5f), new Linear(hidden, hidden), new ReLU(), new Linear(hidden, classes));
    }
}
