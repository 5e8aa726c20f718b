package dev.isthmus.loss;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Sequential;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;

import static dev.isthmus.testing.Fixtures.assertClose;
import static dev.isthmus.testing.Fixtures.decimal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hinton's distillation loss against PyTorch (fixtures/distillation), by finite differences, and with a teacher model. */
class DistillationLossTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<String> cases() {
        return Fixtures.cases("distillation");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name) {
        try (SafeTensors fixture = Fixtures.open("distillation", name)) {
            Map<String, Object> config = Fixtures.config(fixture);
            Shape shape = Shape.of(fixture.entry("student").shape());
            try (DistillationLoss loss = new DistillationLoss(decimal(config, "temperature"), decimal(config, "alpha"));
                 Tensor student = device.fromArray(shape, fixture.floats("student"));
                 Tensor teacher = device.fromArray(shape, fixture.floats("teacher"));
                 Tensor labels = device.fromInts(Shape.of(shape.dim(0)), fixture.ints("target"))) {
                loss.useTeacherLogits(teacher);
                float value = loss.forward(student, labels, true).item();
                assertClose(name + " loss", fixture.floats("loss"), new float[] {value}, 1e-5, 1e-6);
                assertClose(name + " gradient", fixture.floats("grad_input"), loss.backward().toFloatArray(), 1e-4, 1e-6);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Shape shape = Shape.of(4, 6);
        try (DistillationLoss loss = new DistillationLoss(3f, 0.6f);
             Tensor student = device.fromArray(shape, TestData.uniform(24, 2.0, 1));
             Tensor teacher = device.fromArray(shape, TestData.uniform(24, 2.0, 2));
             Tensor labels = device.fromInts(Shape.of(4), TestData.labels(4, 6, 3))) {
            loss.useTeacherLogits(teacher);
            GradientChecker.Report report = new GradientChecker().checkLoss(loss, student, labels, 5);
            assertTrue(report.passed(), report.toString());
        }
    }

    @Test
    void aTeacherModelRunsInEvalModeOnTheObservedBatch() {
        try (Model teacher = new Model("teacher", new Sequential(new Linear(3, 4)), Shape.of(3));
             DistillationLoss loss = new DistillationLoss(teacher.build(device, 2, 7), 2f, 1f);
             DistillationLoss given = new DistillationLoss(2f, 1f);
             Tensor x = device.fromArray(Shape.of(2, 3), TestData.uniform(6, 1.0, 4));
             Tensor student = device.fromArray(Shape.of(2, 4), TestData.uniform(8, 1.0, 5));
             Tensor labels = device.fromInts(Shape.of(2), new int[] {1, 3})) {
            loss.observeBatch(x);
            float fromModel = loss.forward(student, labels, false).item();
            try (Tensor teacherLogits = device.fromArray(Shape.of(2, 4), teacher.forward(x, false).toFloatArray())) {
                given.useTeacherLogits(teacherLogits);
                assertEquals(given.forward(student, labels, false).item(), fromModel);
            }
            IllegalStateException stale = assertThrows(IllegalStateException.class, () -> loss.forward(student, labels, false));
            assertTrue(stale.getMessage().contains("no teacher logits"), stale.getMessage());
        }
    }

    @Test
    void refusesWhatCannotWork() {
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0f, 0.5f));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(2f, 1.5f));
        try (DistillationLoss loss = new DistillationLoss(2f, 0.5f);
             Tensor student = device.allocate(Shape.of(2, 4));
             Tensor teacher = device.allocate(Shape.of(2, 5));
             Tensor labels = device.allocate(Shape.of(2), DType.I32)) {
            loss.useTeacherLogits(teacher);
            IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                    () -> loss.forward(student, labels, true));
            assertTrue(mismatch.getMessage().contains("[2, 5]") && mismatch.getMessage().contains("[2, 4]"), mismatch.getMessage());
        }
    }
}
