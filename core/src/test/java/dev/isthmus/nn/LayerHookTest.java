package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hooks on a model see every layer's forward and backward (the root's too), a container's around
 * its children's, and stop when removed; the profile is such a hook, and splits a convolution's
 * backward into its data and filter parts by timing the plan's calls.
 */
class LayerHookTest {
    private static Model model(Device device) {
        Sequential main = new Sequential().add("conv1", Conv2d.of(4, 4, 3).padding(1).bias(false))
                .add("bn1", new BatchNorm2d(4));
        return new Model("hooked", new Sequential()
                .add("conv", Conv2d.of(1, 4, 3).padding(1)).add("relu", new ReLU())
                .add("block", new Residual(main, null, true))
                .add("flatten", new Flatten()).add("fc", new Linear(4 * 4 * 4, 3)), Shape.of(1, 4, 4)).build(device, 2, 0);
    }

    private static void step(Model model, CrossEntropyLoss loss, Tensor x, Tensor labels) {
        loss.forward(model.forward(x, true), labels, true);
        model.backward(loss.backward());
    }

    @Test
    void aHookSeesEveryLayerInOrderUntilRemoved() {
        List<String> events = new ArrayList<>();
        LayerHook recorder = new LayerHook() {
            @Override
            public void beforeForward(Layer layer) {
                events.add("forward " + layer.describe());
            }

            @Override
            public void afterForward(Layer layer) {
                events.add("forward done " + layer.describe());
            }

            @Override
            public void beforeBackward(Layer layer) {
                events.add("backward " + layer.describe());
            }

            @Override
            public void afterBackward(Layer layer) {
                events.add("backward done " + layer.describe());
            }
        };
        try (Device device = new CpuDevice(1); CrossEntropyLoss loss = new CrossEntropyLoss(); Model model = model(device);
             Tensor x = device.fromArray(model.batchShape(2), TestData.uniform(32, 1, 1));
             Tensor labels = device.fromInts(Shape.of(2), 0, 2)) {
            model.addHook(recorder);
            step(model, loss, x, labels);
            assertEquals(List.of("forward Sequential(5 layers)",
                    "forward Conv2d(1, 4, kernel=3x3, padding=1x1)", "forward done Conv2d(1, 4, kernel=3x3, padding=1x1)",
                    "forward ReLU()", "forward done ReLU()",
                    "forward Residual(identity shortcut)",
                    "forward Conv2d(4, 4, kernel=3x3, padding=1x1, bias=false)",
                    "forward done Conv2d(4, 4, kernel=3x3, padding=1x1, bias=false)",
                    "forward BatchNorm2d(4)", "forward done BatchNorm2d(4)",
                    "forward done Residual(identity shortcut)",
                    "forward Flatten()", "forward done Flatten()",
                    "forward Linear(64, 3)", "forward done Linear(64, 3)",
                    "forward done Sequential(5 layers)",
                    "backward Sequential(5 layers)",
                    "backward Linear(64, 3)", "backward done Linear(64, 3)",
                    "backward Flatten()", "backward done Flatten()",
                    "backward Residual(identity shortcut)",
                    "backward BatchNorm2d(4)", "backward done BatchNorm2d(4)",
                    "backward Conv2d(4, 4, kernel=3x3, padding=1x1, bias=false)",
                    "backward done Conv2d(4, 4, kernel=3x3, padding=1x1, bias=false)",
                    "backward done Residual(identity shortcut)",
                    "backward ReLU()", "backward done ReLU()",
                    "backward Conv2d(1, 4, kernel=3x3, padding=1x1)", "backward done Conv2d(1, 4, kernel=3x3, padding=1x1)",
                    "backward done Sequential(5 layers)"),
                    events);
            events.clear();
            model.removeHook(recorder);
            step(model, loss, x, labels);
            assertEquals(List.of(), events);
        }
    }

    @Test
    void theProfileSplitsAConvolutionsBackwardIntoDataAndFilter() {
        try (Device device = new CpuDevice(1); CrossEntropyLoss loss = new CrossEntropyLoss(); Model model = model(device);
             Tensor x = device.fromArray(model.batchShape(2), TestData.uniform(32, 1, 1));
             Tensor labels = device.fromInts(Shape.of(2), 0, 2)) {
            Layer first = model.leaves().get("conv");
            Layer inner = model.leaves().get("block.conv1");
            Profile profile = new Profile(device);
            model.addHook(profile);
            step(model, loss, x, labels);
            model.removeHook(profile);
            for (Layer conv : List.of(first, inner)) {
                long backward = profile.nanos(conv, Profile.Part.BACKWARD);
                long data = profile.nanos(conv, Profile.Part.BACKWARD_DATA);
                long filter = profile.nanos(conv, Profile.Part.BACKWARD_FILTER);
                assertTrue(profile.nanos(conv, Profile.Part.FORWARD) > 0, conv + ": forward timed");
                assertTrue(filter > 0 && data + filter <= backward, conv + ": " + data + " + " + filter + " within " + backward);
            }
            assertEquals(0, profile.nanos(first, Profile.Part.BACKWARD_DATA), "the first layer computes no dL/dx");
            assertTrue(profile.nanos(inner, Profile.Part.BACKWARD_DATA) > 0);
            Layer block = model.root().children().get("block");
            assertTrue(profile.nanos(block, Profile.Part.BACKWARD) >= profile.nanos(inner, Profile.Part.BACKWARD),
                    "a container's time includes its children's");
            long before = profile.nanos(inner, Profile.Part.BACKWARD_FILTER);
            step(model, loss, x, labels);
            assertEquals(before, profile.nanos(inner, Profile.Part.BACKWARD_FILTER), "removed, the profile times nothing");
        }
    }
}
