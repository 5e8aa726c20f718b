package dev.isthmus.models;

import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/**
 * LeNet-5 for 28×28 images as in shared/peers/torch_models.py: conv5×5·6 pad 2, relu, maxpool 2,
 * conv5×5·16, relu, maxpool 2, fc120, relu, fc84, relu, fc(classes). 61,706 parameters for one
 * input channel and ten classes.
 */
public final class LeNet5 {
    private LeNet5() {
    }

    /**
     * {@return LeNet-5 for 28×28 inputs of {@code inChannels} channels: two 5×5 convolutions with max pooling, then fc120, fc84 and the classifier}
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     */
    public static Sequential create(int inChannels, int classes) {
        return new Sequential()
                .add("conv1", Conv2d.of(inChannels, 6, 5).padding(2)).add("relu1", new ReLU()).add("pool1", new MaxPool2d(2))
                .add("conv2", Conv2d.of(6, 16, 5)).add("relu2", new ReLU()).add("pool2", new MaxPool2d(2))
                .add("flatten", new Flatten())
                .add("fc1", new Linear(16 * 5 * 5, 120)).add("relu3", new ReLU())
                .add("fc2", new Linear(120, 84)).add("relu4", new ReLU())
                .add("fc3", new Linear(84, classes));
    }
}
