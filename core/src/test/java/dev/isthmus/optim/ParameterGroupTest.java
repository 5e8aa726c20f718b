package dev.isthmus.optim;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.loss.CrossEntropyLoss;
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
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter groups with their own learning rate, weight decay and L1 penalty, against PyTorch's
 * param_groups (fixtures/groups, from make_fixtures_finetune.py), and fused runs against one call per parameter.
 */
class ParameterGroupTest {
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
        return Fixtures.cases("groups");
    }

    @SuppressWarnings("unchecked")
    private static ParameterGroup group(String prefix, Object facts) {
        Map<String, Object> map = (Map<String, Object>) facts;
        return new ParameterGroup(prefix, ((Number) map.get("lr")).doubleValue(), ((Number) map.get("weight_decay")).doubleValue(),
                ((Number) map.get("l1")).doubleValue());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorchParamGroups(String name) {
        try (SafeTensors fixture = Fixtures.open("groups", name);
             Tensor a = device.fromArray(Shape.of(3, 4), fixture.floats("param0.a"));
             Tensor aGrad = device.allocate(Shape.of(3, 4));
             Tensor b = device.fromArray(Shape.of(5), fixture.floats("param0.b"));
             Tensor bGrad = device.allocate(Shape.of(5))) {
            Map<String, Object> config = Fixtures.config(fixture);
            List<Parameter> parameters = List.of(new Parameter("a", a, aGrad), new Parameter("b", b, bGrad));
            String kind = (String) config.get("optimizer");
            try (Optimizer optimizer = switch (kind) {
                case "SGD" -> new Sgd(parameters, 0.5, 0.9, 0, 0, false);
                case "Adam" -> new Adam(parameters, 0.5, 0.9, 0.999, 1e-8, 0, false);
                case "AdamW" -> new Adam(parameters, 0.5, 0.9, 0.999, 1e-8, 0, true);
                default -> throw new AssertionError(kind);
            }) {
                optimizer.setParameterGroups(List.of(group("a", config.get("a")), group("b", config.get("b"))));
                for (int step = 1; step <= 3; step++) {
                    aGrad.copyFrom(fixture.floats("grad" + step + ".a"));
                    bGrad.copyFrom(fixture.floats("grad" + step + ".b"));
                    optimizer.step();
                    assertClose(name + " step " + step + " a", fixture.floats("param" + step + ".a"), a.toFloatArray(), 1e-5, 1e-6);
                    assertClose(name + " step " + step + " b", fixture.floats("param" + step + ".b"), b.toFloatArray(), 1e-5, 1e-6);
                }
            }
        }
    }

    @Test
    void groupedRunsAreFusedAndMatchTheStepOneParameterAtATime() {
        List<ParameterGroup> groups = ParameterGroup.parse("fc=0.02:l1=1e-3,*=0.05:wd=1e-3", 0);
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             Model model = new Model("small", new Sequential().add("conv", Conv2d.of(2, 4, 3).padding(1)).add(new ReLU())
                     .add(new Flatten()).add("fc", new Linear(4 * 5 * 5, 3)), Shape.of(2, 5, 5)).build(device, 6, 3);
             Optimizer fused = new Sgd(model.parameters(), 0.1, 0.9, 0, 0, false);
             Optimizer perParameter = new Sgd(model.parameters(), 0.1, 0.9, 0, 0, false);
             Tensor x = device.fromArray(model.batchShape(6), TestData.uniform(6 * 2 * 5 * 5, 1, 5));
             Tensor labels = device.fromInts(Shape.of(6), TestData.labels(6, 3, 6))) {
            fused.setParameterGroups(groups);
            perParameter.setParameterGroups(groups);
            perParameter.setFused(false);
            assertTrue(fused.isFused(), "each group's parameters are contiguous: one call per group");
            assertFalse(perParameter.isFused());
            for (int step = 1; step <= 3; step++) {
                fused.zeroGrad();
                loss.forward(model.forward(x, true), labels, true);
                model.backward(loss.backward());
                List<float[]> start = values(model.parameters());
                List<float[]> grads = grads(model.parameters());
                fused.step();
                List<float[]> afterFused = values(model.parameters());
                restore(model.parameters(), start, grads);
                perParameter.step();
                List<float[]> afterPerParameter = values(model.parameters());
                for (int i = 0; i < afterFused.size(); i++) {
                    assertArrayEquals(afterPerParameter.get(i), afterFused.get(i), "step " + step + " " + model.parameters().get(i).name());
                }
                List<NamedTensor> a = fused.state();
                List<NamedTensor> b = perParameter.state();
                for (int i = 0; i < a.size(); i++) {
                    assertArrayEquals(b.get(i).tensor().toFloatArray(), a.get(i).tensor().toFloatArray(), a.get(i).name());
                }
            }
            List<Map<String, Object>> described = fused.parameterGroups();
            assertEquals(2, described.size());
            assertEquals(List.of("fc.weight", "fc.bias"), described.get(0).get("params"));
            fused.setLearningRate(0.05);
            assertEquals(0.01, (Double) fused.parameterGroups().get(0).get("lr"), 1e-12, "a schedule scales every group alike");
            assertEquals(1e-3, (Double) fused.parameterGroups().get(1).get("weight_decay"), 0);
        }
    }

    @Test
    void badGroupsAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ParameterGroup.parse("fc=fast", 0)).getMessage().contains("fast"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ParameterGroup.parse("fc", 0)).getMessage().contains("PREFIX=LR"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ParameterGroup.parse("fc=0.1:momentum=2", 0))
                .getMessage().contains("momentum=2"));
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.parse("fc=0.1,fc=0.2", 0));
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.parse("fc=-1", 0));
        assertEquals(new ParameterGroup("fc", 0.01, Double.NaN, 0.5), ParameterGroup.parse("fc=0.01", 0.5).get(0));
        try (Tensor w = device.allocate(Shape.of(2)); Tensor g = device.allocate(Shape.of(2));
             Optimizer sgd = new Sgd(List.of(new Parameter("fc.weight", w, g)), 0.1)) {
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> sgd.setParameterGroups(List.of(new ParameterGroup("classifier", 0.1, Double.NaN, 0))));
            assertTrue(none.getMessage().contains("'classifier' covers no parameter") && none.getMessage().contains("fc.weight"),
                    none.getMessage());
        }
    }

    @Test
    void theL1PenaltyAddsL1TimesTheSignToTheGradient() {
        try (Tensor w = device.fromArray(Shape.of(3), -2f, 0f, 3f); Tensor g = device.fromArray(Shape.of(3), 1f, 1f, 1f)) {
            device.optimizers().l1Penalty(w, g, 0.5f);
            assertArrayEquals(new float[] {0.5f, 1f, 1.5f}, g.toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> device.optimizers().l1Penalty(w, g, -1f));
        }
    }

    private static List<float[]> values(List<Parameter> parameters) {
        List<float[]> values = new ArrayList<>();
        for (Parameter parameter : parameters) {
            values.add(parameter.value().toFloatArray());
        }
        return values;
    }

    private static List<float[]> grads(List<Parameter> parameters) {
        List<float[]> grads = new ArrayList<>();
        for (Parameter parameter : parameters) {
            grads.add(parameter.grad().toFloatArray());
        }
        return grads;
    }

    /** Puts back the values and the gradients (the L1 penalty adds to the gradients in place). */
    private static void restore(List<Parameter> parameters, List<float[]> values, List<float[]> grads) {
        for (int i = 0; i < parameters.size(); i++) {
            parameters.get(i).value().copyFrom(values.get(i));
            parameters.get(i).grad().copyFrom(grads.get(i));
        }
    }
}
