package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Adam;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * U-Net's shapes, names and counts, its gradients, PyTorch's logits and its input check; unet-small
 * learning the synthetic shapes through the trainer is SegmentationTrainingTest.
 */
class UNetTest {
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(2);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    @Test
    void thePapersNetworkHasItsWidthsAndParameterCount() {
        try (Model model = Zoo.entry("unet").create()) {
            model.root().setup(device, Shape.of(1, 1, 32, 32));
            assertEquals(Shape.of(1, 2, 32, 32), model.root().outputShape());
            // PyTorch's count for the same modules (64..1024 channels, 2x2 up-convolutions, a 1x1 head); the paper's padding changes none.
            assertEquals(31_030_658L, model.parameterCount());
            List<String> names = model.parameters().stream().map(Parameter::name).toList();
            assertEquals("encode.0.weight", names.get(0));
            assertTrue(names.contains("skip.down.inner.skip.down.inner.skip.down.inner.skip.down.inner.2.weight"), names.toString());
            assertTrue(names.contains("skip.down.up.weight") && names.contains("decode.2.bias") && names.contains("head.weight"),
                    names.toString());
        }
    }

    @Test
    void smallBuildsAtItsSizeAndWithBatchNorm() {
        try (Model model = Zoo.entry("unet-small").create()) {
            model.build(device, 2, 0);
            assertEquals(Shape.of(2, 3, 32, 32), model.root().outputShape());
            // PyTorch's count for the same modules (make the nesting of nn.Sequential the class comment describes).
            assertEquals(121_051L, model.parameterCount());
        }
        try (UNet bn = new UNet(3, 4, 2, 4, true)) {
            bn.setup(device, Shape.of(1, 3, 8, 12));
            assertEquals(Shape.of(1, 4, 8, 12), bn.outputShape());
            assertTrue(bn.buffers().stream().anyMatch(b -> b.name().equals("skip.down.inner.skip.down.inner.1.running_mean")),
                    bn.buffers().toString());
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesThroughTheSkips() {
        for (long seed = 1; seed <= 2; seed++) {
            try (UNet net = new UNet(2, 3, 2, 2, false)) {
                Shape shape = Shape.of(2, 2, 8, 4);
                net.setup(device, shape);
                net.resetParameters(new java.util.SplittableRandom(seed));
                try (Tensor input = device.fromArray(shape, TestData.uniform((int) shape.elementCount(), 1.0, seed))) {
                    GradientChecker.Report report = new GradientChecker(1e-2, 1e-2, 12).check(net, input, seed * 31);
                    assertTrue(report.passed(), "seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, "nothing was probed");
                }
            }
        }
    }

    /**
     * Steps 3 and 4 allocate nothing, and a closed model leaves nothing behind. The first run also
     * sizes the device's own layout-conversion scratch (kept by the device for every model), so the
     * leak check compares around a second run.
     */
    @Test
    void aSteadyStateTrainingStepAllocatesNoNativeMemoryAndClosingFreesAll() {
        trainFourSteps();
        long before = device.liveBytes();
        trainFourSteps();
        assertEquals(before, device.liveBytes(), "native bytes after the model, loss and optimizer closed");
    }

    private static void trainFourSteps() {
        int batch = 4;
        try (Model model = Zoo.entry("unet-small").create().build(device, batch, 0);
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Adam adam = new Adam(model.parameters(), 1e-3, 0.9, 0.999, 1e-8, 0, false);
             Tensor x = device.fromArray(Shape.of(batch, 1, 32, 32), TestData.uniform(batch * 1024, 1.0, 3));
             Tensor y = device.fromInts(Shape.of(batch, 32, 32), new int[batch * 1024])) {
            long allocations = 0;
            for (int step = 0; step < 4; step++) {
                if (step == 2) {
                    allocations = device.allocationCount();
                }
                adam.zeroGrad();
                loss.forward(model.forward(x, true), y, true);
                model.backward(loss.backward());
                adam.step();
            }
            assertEquals(allocations, device.allocationCount(), "native allocations in steps 3 and 4");
        }
    }

    /** make_model_fixtures_unet.py's PyTorch unet-small: its state_dict loads as it is and gives its eval logits. */
    @Test
    void smallGivesPyTorchsLogitsFromItsStateDict() throws java.io.IOException {
        try (Model model = Zoo.entry("unet-small").create();
             SafeTensors io = SafeTensors.open(CheckpointInteropTest.fixture("unet-small_io.safetensors"))) {
            Shape input = Shape.of(io.entry("input").shape());
            model.build(device, input.dim(0), 5);
            Checkpoint.load(CheckpointInteropTest.fixture("unet-small_state.safetensors"), model, null);
            try (Tensor x = device.fromArray(input, io.floats("input"))) {
                float[] logits = model.forward(x, false).toFloatArray();
                float[] expected = io.floats("logits");
                assertEquals(expected.length, logits.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], 1e-4 * (1 + Math.abs(expected[i])), "logit " + i);
                }
            }
        }
    }

    @Test
    void anInputNotAMultipleOfTwoToTheDepthIsRefusedSayingSo() {
        try (UNet net = new UNet(1, 2, 3, 4, false)) {
            IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                    () -> net.setup(device, Shape.of(1, 1, 36, 32)));
            assertTrue(odd.getMessage().contains("multiples of 2^3 = 8") && odd.getMessage().contains("[1, 1, 36, 32]"),
                    odd.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new UNet(1, 2, 0, 4, false));
        assertThrows(IllegalArgumentException.class, () -> new UNet(1, 2, 3, 0, false));
    }
}
