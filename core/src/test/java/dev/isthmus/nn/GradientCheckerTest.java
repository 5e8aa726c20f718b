package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** The checker must catch the bugs it exists for, or every gradient test is hollow. */
class GradientCheckerTest {

    /** Tanh whose backward forgets the (1 − y²) factor: a missing term. */
    static final class TanhMissingTerm extends ElementwiseActivation {
        TanhMissingTerm() {
            super(Activation.TANH, 0f);
        }

        @Override
        public String describe() {
            return "TanhMissingTerm";
        }

        @Override
        protected Tensor doBackward(Tensor gradOutput) {
            Tensor correct = super.doBackward(gradOutput);
            device().copy(gradOutput, correct);
            return correct;
        }
    }

    /** Linear whose input gradient is shifted by one element: an off-by-one. */
    static final class LinearOffByOne extends Layer {
        private final Linear inner = new Linear(4, 3);
        private Tensor shifted;

        @Override
        public String describe() {
            return "LinearOffByOne";
        }

        @Override
        protected Shape outputShapeFor(Shape input) {
            return inner.outputShapeOf(input);
        }

        @Override
        protected void allocateBuffers(Device device, Shape input, Shape output) {
            inner.setup(device, input);
            shifted = device.allocate(input);
        }

        @Override
        protected void releaseBuffers() {
            shifted.close();
        }

        @Override
        protected Tensor doForward(Tensor x, boolean training) {
            return inner.forward(x, training);
        }

        @Override
        protected Tensor doBackward(Tensor gradOutput) {
            float[] correct = inner.backward(gradOutput).toFloatArray();
            float[] wrong = new float[correct.length];
            for (int i = 0; i + 1 < correct.length; i++) {
                wrong[i] = correct[i + 1];
            }
            return shifted.copyFrom(wrong);
        }

        @Override
        public java.util.List<Parameter> parameters() {
            return inner.parameters();
        }

        @Override
        public void resetParameters(java.util.SplittableRandom random) {
            inner.resetParameters(random);
        }
    }

    @Test
    void aMissingTermIsCaught() {
        try (Device device = new CpuDevice(1); TanhMissingTerm layer = new TanhMissingTerm()) {
            Shape shape = Shape.of(3, 5);
            layer.setup(device, shape);
            try (Tensor input = device.fromArray(shape, TestData.uniform(15, 1.5, 1))) {
                assertFalse(new GradientChecker().check(layer, input, 2).passed());
            }
        }
    }

    @Test
    void anOffByOneIsCaught() {
        try (Device device = new CpuDevice(1); LinearOffByOne layer = new LinearOffByOne()) {
            Shape shape = Shape.of(2, 4);
            layer.setup(device, shape);
            layer.resetParameters(new java.util.SplittableRandom(3));
            try (Tensor input = device.fromArray(shape, TestData.uniform(8, 1.0, 4))) {
                assertFalse(new GradientChecker().check(layer, input, 5).passed());
            }
        }
    }
}
