package dev.isthmus.testing;

import dev.isthmus.nn.AvgPool2d;
import dev.isthmus.nn.BatchNorm1d;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.ELU;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.GELU;
import dev.isthmus.nn.GlobalAvgPool2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.LeakyReLU;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.LogSoftmax;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Residual;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Sigmoid;
import dev.isthmus.nn.Softmax;
import dev.isthmus.nn.Tanh;
import dev.isthmus.tensor.Shape;

import java.util.List;
import java.util.function.Supplier;

/** One layer of every kind on an odd input shape: the cases the conformance suites run on every device. */
public final class LayerCases {
    private LayerCases() {
    }

    /** A layer factory, its input shape, and whether its input needs well-spaced values (kinks). */
    public record Case(String name, Supplier<Layer> factory, Shape input, boolean spaced) {
        @Override
        public String toString() {
            return name;
        }
    }

    public static List<Case> all() {
        return List.of(
            new Case("Linear", () -> new Linear(7, 5), Shape.of(3, 7), false),
            new Case("Conv2d 3x3 pad 1", () -> new Conv2d(3, 4, 3, 1, 1, true), Shape.of(2, 3, 7, 6), false),
            new Case("Conv2d 3x5 stride 2 pad 2", () -> Conv2d.of(2, 3, 3, 5).stride(2).padding(2), Shape.of(2, 2, 9, 8), false),
            new Case("Conv2d dilation 2", () -> Conv2d.of(2, 2, 3).padding(2).dilation(2).bias(false), Shape.of(1, 2, 7, 7), false),
            new Case("Conv2d groups 2", () -> Conv2d.of(4, 6, 3).padding(1).groups(2), Shape.of(2, 4, 5, 5), false),
            new Case("Conv2d 1x1 stride 2", () -> new Conv2d(3, 5, 1, 2, 0, false), Shape.of(2, 3, 8, 8), false),
            new Case("Conv2d 5x5 pad 2 (LeNet)", () -> new Conv2d(1, 6, 5, 1, 2, true), Shape.of(4, 1, 12, 12), false),
            new Case("Conv2d 16->16 (ResNet)", () -> new Conv2d(16, 16, 3, 1, 1, false), Shape.of(4, 16, 8, 8), false),
            new Case("MaxPool2d 2", () -> new MaxPool2d(2), Shape.of(2, 3, 6, 6), true),
            new Case("MaxPool2d 3 s2 p1", () -> new MaxPool2d(3, 2, 1), Shape.of(2, 2, 7, 7), true),
            new Case("AvgPool2d 3 s2 p1", () -> new AvgPool2d(3, 2, 1, true), Shape.of(2, 2, 7, 7), false),
            new Case("AvgPool2d 3 s2 p1 exclude", () -> new AvgPool2d(3, 2, 1, false), Shape.of(1, 2, 7, 6), false),
            new Case("GlobalAvgPool2d", GlobalAvgPool2d::new, Shape.of(2, 3, 5, 4), false),
            new Case("Flatten", Flatten::new, Shape.of(2, 3, 2, 2), false),
            new Case("ReLU", ReLU::new, Shape.of(2, 3, 4, 5), true),
            new Case("LeakyReLU", () -> new LeakyReLU(0.2f), Shape.of(3, 11), true),
            new Case("ELU", () -> new ELU(0.7f), Shape.of(2, 3, 3, 3), false),
            new Case("Sigmoid", Sigmoid::new, Shape.of(4, 5), false),
            new Case("Tanh", Tanh::new, Shape.of(2, 2, 3, 3), false),
            new Case("GELU", GELU::new, Shape.of(4, 5), false),
            new Case("Softmax", Softmax::new, Shape.of(3, 7), false),
            new Case("LogSoftmax [N,C,H,W]", LogSoftmax::new, Shape.of(2, 3, 2, 3), false),
            new Case("BatchNorm2d", () -> new BatchNorm2d(3), Shape.of(4, 3, 3, 3), false),
            new Case("BatchNorm2d no affine", () -> new BatchNorm2d(2, 1e-3f, 0.2f, false), Shape.of(3, 2, 2, 3), false),
            new Case("BatchNorm1d", () -> new BatchNorm1d(4), Shape.of(6, 4), false),
            new Case("Dropout", () -> new Dropout(0.3f), Shape.of(2, 3, 4, 4), false),
            new Case("ConvTranspose2d k3 s2 p1 op1 groups 2", () -> new dev.isthmus.nn.ConvTranspose2d(4, 6, 3, 2, 1, 1, 1, 2, true),
                    Shape.of(2, 4, 3, 4), false),
            new Case("ConvTranspose2d k2 s2 (U-Net)", () -> new dev.isthmus.nn.ConvTranspose2d(3, 2, 2, 2, 0, 0, 1, 1, false),
                    Shape.of(2, 3, 4, 4), false),
            new Case("Concat conv, identity, tanh", () -> new dev.isthmus.nn.Concat(Conv2d.of(3, 2, 3).padding(1),
                    new dev.isthmus.nn.Identity(), new Tanh()), Shape.of(2, 3, 4, 4), false),
            new Case("Residual projection", () -> new Residual(new Sequential()
                    .add("conv1", new Conv2d(2, 4, 3, 2, 1, false)).add("bn1", new BatchNorm2d(4)).add(new ReLU())
                    .add("conv2", new Conv2d(4, 4, 3, 1, 1, false)).add("bn2", new BatchNorm2d(4)),
                    new Sequential(new Conv2d(2, 4, 1, 2, 0, false), new BatchNorm2d(4)), true), Shape.of(2, 2, 6, 6), false),
            new Case("Sequential conv-pool-flatten-linear", () -> new Sequential(new Conv2d(2, 3, 3, 1, 1, true), new ReLU(),
                    new MaxPool2d(2), new Flatten(), new Linear(12, 3)), Shape.of(2, 2, 4, 4), false));
    }
}
