package dev.isthmus.optim;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A built model's parameters and gradients are one block each, so its optimizer steps all of them
 * in one call: the result must be the per-parameter step's to the bit, parameters and state, step
 * after step. Both optimizers see the same gradients from the same starting parameters.
 */
class FusedStepTest {
    private static Function<List<Parameter>, Optimizer> optimizer(String name) {
        return switch (name) {
            case "sgd-momentum" -> p -> new Sgd(p, 0.05, 0.9, 0, 5e-4, false);
            case "sgd-nesterov" -> p -> new Sgd(p, 0.05, 0.9, 0, 1e-3, true);
            case "sgd" -> p -> new Sgd(p, 0.05);
            case "adam" -> p -> new Adam(p, 1e-2, 0.9, 0.999, 1e-8, 1e-4, false);
            case "adamw" -> p -> Adam.adamW(p, 1e-2);
            case "rmsprop" -> p -> new RmsProp(p, 1e-2, 0.99, 1e-8, 1e-4, 0.5, true);
            case "adagrad" -> p -> new AdaGrad(p, 1e-2, 0.01, 1e-4, 0.1, 1e-10);
            default -> throw new AssertionError(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd-momentum", "sgd-nesterov", "sgd", "adam", "adamw", "rmsprop", "adagrad"})
    void theFusedStepIsThePerParameterStepExactly(String name) {
        try (Device device = new CpuDevice(2); CrossEntropyLoss loss = new CrossEntropyLoss();
             Model model = new Model("small", new Sequential()
                     .add("conv", Conv2d.of(2, 4, 3).padding(1).bias(false)).add("bn", new BatchNorm2d(4)).add(new ReLU())
                     .add(new Flatten()).add("fc", new Linear(4 * 5 * 5, 3)), Shape.of(2, 5, 5)).build(device, 6, 3);
             Optimizer fused = optimizer(name).apply(model.parameters());
             Optimizer perParameter = optimizer(name).apply(model.parameters());
             Tensor x = device.fromArray(model.batchShape(6), TestData.uniform(6 * 2 * 5 * 5, 1, 5));
             Tensor labels = device.fromInts(Shape.of(6), TestData.labels(6, 3, 6))) {
            assertTrue(fused.isFused(), name + ": a built model's optimizer steps its block at once");
            perParameter.setFused(false);
            assertFalse(perParameter.isFused());
            for (int step = 1; step <= 3; step++) {
                fused.zeroGrad();
                loss.forward(model.forward(x, true), labels, true);
                model.backward(loss.backward());
                List<float[]> start = values(model.parameters());
                fused.step();
                List<float[]> afterFused = values(model.parameters());
                restore(model.parameters(), start);
                perParameter.step();
                List<float[]> afterPerParameter = values(model.parameters());
                for (int i = 0; i < afterFused.size(); i++) {
                    String what = name + " step " + step + " " + model.parameters().get(i).name();
                    assertFalse(java.util.Arrays.equals(start.get(i), afterFused.get(i)), what + " moved");
                    assertArrayEquals(afterPerParameter.get(i), afterFused.get(i), what);
                }
                List<NamedTensor> fusedState = fused.state();
                List<NamedTensor> perParameterState = perParameter.state();
                assertEquals(perParameterState.size(), fusedState.size());
                for (int i = 0; i < fusedState.size(); i++) {
                    assertEquals(perParameterState.get(i).name(), fusedState.get(i).name());
                    assertArrayEquals(perParameterState.get(i).tensor().toFloatArray(), fusedState.get(i).tensor().toFloatArray(),
                            name + " step " + step + " " + fusedState.get(i).name());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd-momentum", "adam"})
    void parametersOutsideOneBlockStepOneByOne(String name) {
        try (Device device = new CpuDevice(1);
             Tensor weight = device.fromArray(Shape.of(2), 1, 2); Tensor weightGrad = device.fromArray(Shape.of(2), 1, 1);
             Tensor bias = device.fromArray(Shape.of(1), 3); Tensor biasGrad = device.fromArray(Shape.of(1), 1);
             Optimizer optimizer = optimizer(name).apply(List.of(new Parameter("weight", weight, weightGrad),
                     new Parameter("bias", bias, biasGrad)))) {
            assertFalse(optimizer.isFused(), "separately allocated parameters are not one block");
            assertThrows(IllegalArgumentException.class, () -> optimizer.setFused(true));
            optimizer.step();
            assertTrue(weight.toFloatArray()[0] < 1 && bias.toFloatArray()[0] < 3, "every parameter moved");
        }
    }

    private static List<float[]> values(List<Parameter> parameters) {
        List<float[]> values = new ArrayList<>();
        for (Parameter parameter : parameters) {
            values.add(parameter.value().toFloatArray());
        }
        return values;
    }

    private static void restore(List<Parameter> parameters, List<float[]> values) {
        for (int i = 0; i < parameters.size(); i++) {
            parameters.get(i).value().copyFrom(values.get(i));
        }
    }
}
