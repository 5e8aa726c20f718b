package dev.isthmus.models;

import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/** A multi-layer perceptron: flatten, then fc1..fcN with ReLU between. */
public final class Mlp {
    private Mlp() {
    }

    /**
     * {@return a multi-layer perceptron: flatten, then one Linear and ReLU per hidden size, then the classifier}
     *
     * @param inputFeatures the features of one flattened sample
     * @param hidden the hidden layers' sizes, in order
     * @param classes the number of classes
     */
    public static Sequential create(int inputFeatures, int[] hidden, int classes) {
        Sequential model = new Sequential().add("flatten", new Flatten());
        int features = inputFeatures;
        for (int i = 0; i < hidden.length; i++) {
            model.add("fc" + (i + 1), new Linear(features, hidden[i])).add("relu" + (i + 1), new ReLU());
            features = hidden[i];
        }
        return model.add("fc" + (hidden.length + 1), new Linear(features, classes));
    }
}
