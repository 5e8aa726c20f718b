package dev.isthmus.optim;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each optimizer's parameters after three steps, and its final state, against torch.optim. */
class OptimizerTest {
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
        return Fixtures.cases("optimizers");
    }

    static Optimizer build(Map<String, Object> c, List<Parameter> parameters) {
        double lr = Fixtures.decimal(c, "lr");
        return switch ((String) c.get("optimizer")) {
            case "SGD" -> new Sgd(parameters, lr, d(c, "momentum"), d(c, "dampening"), d(c, "weight_decay"),
                    (Boolean) c.get("nesterov"));
            case "Adam", "AdamW" -> {
                List<?> betas = (List<?>) c.get("betas");
                yield new Adam(parameters, lr, ((Number) betas.get(0)).doubleValue(), ((Number) betas.get(1)).doubleValue(),
                        d(c, "eps"), d(c, "weight_decay"), c.get("optimizer").equals("AdamW"));
            }
            case "RMSprop" -> new RmsProp(parameters, lr, d(c, "alpha"), d(c, "eps"), d(c, "weight_decay"),
                    d(c, "momentum"), (Boolean) c.get("centered"));
            case "Adagrad" -> new AdaGrad(parameters, lr, d(c, "lr_decay"), d(c, "weight_decay"),
                    d(c, "initial_accumulator_value"), d(c, "eps"));
            default -> throw new AssertionError("unknown optimizer " + c.get("optimizer"));
        };
    }

    private static double d(Map<String, Object> config, String key) {
        return ((Number) config.get(key)).doubleValue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTorchOptim(String name) {
        try (SafeTensors fixture = Fixtures.open("optimizers", name)) {
            Map<String, Object> config = Fixtures.config(fixture);
            List<Tensor> owned = new ArrayList<>();
            List<Parameter> parameters = new ArrayList<>();
            for (String p : List.of("a", "b")) {
                Shape shape = Shape.of(fixture.entry("param0." + p).shape());
                Tensor value = device.fromArray(shape, fixture.floats("param0." + p));
                Tensor grad = device.allocate(shape);
                owned.add(value);
                owned.add(grad);
                parameters.add(new Parameter(p, value, grad));
            }
            try (Optimizer optimizer = build(config, parameters)) {
                for (int step = 1; step <= 3; step++) {
                    for (Parameter parameter : parameters) {
                        parameter.grad().copyFrom(fixture.floats("grad" + step + "." + parameter.name()));
                    }
                    optimizer.step();
                    for (Parameter parameter : parameters) {
                        assertClose(name + " step " + step + " " + parameter.name(),
                                fixture.floats("param" + step + "." + parameter.name()), parameter.value().toFloatArray(), 1e-5, 1e-6);
                    }
                }
                int checked = 0;
                for (NamedTensor state : optimizer.state()) {
                    String[] parts = state.name().split("\\.", 2);
                    String key = "state." + parts[1] + "." + parts[0];
                    assertClose(name + " " + key, fixture.floats(key), state.tensor().toFloatArray(), 1e-5, 1e-6);
                    checked++;
                }
                long expectedStates = fixture.entries().keySet().stream().filter(k -> k.startsWith("state.")).count();
                assertEquals(expectedStates, checked, name + ": optimizer state keys differ from PyTorch's");
            } finally {
                owned.forEach(Tensor::close);
            }
        }
    }

    @Test
    void schedulesMatchPyTorch() throws IOException {
        Map<String, Object> all = Json.parseObject(Files.readString(Fixtures.folder("schedules").resolve("schedules.json")));
        assertEquals(5, all.size());
        for (Map.Entry<String, Object> entry : all.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> schedule = (Map<String, Object>) entry.getValue();
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) schedule.get("config");
            LrSchedule built = switch ((String) c.get("scheduler")) {
                case "StepLR" -> LrSchedule.step(Fixtures.integer(c, "step_size"), d(c, "gamma"));
                case "MultiStepLR" -> LrSchedule.multiStep(((List<?>) c.get("milestones")).stream()
                        .mapToInt(m -> ((Number) m).intValue()).toArray(), d(c, "gamma"));
                case "ExponentialLR" -> LrSchedule.exponential(d(c, "gamma"));
                case "CosineAnnealingLR" -> LrSchedule.cosine(Fixtures.integer(c, "T_max"), d(c, "eta_min"));
                case "LinearLR" -> LrSchedule.linear(d(c, "start_factor"), d(c, "end_factor"), Fixtures.integer(c, "total_iters"));
                default -> throw new AssertionError("unknown schedule " + c.get("scheduler"));
            };
            double base = ((Number) schedule.get("base_lr")).doubleValue();
            List<?> lrs = (List<?>) schedule.get("lrs");
            for (int epoch = 0; epoch < lrs.size(); epoch++) {
                assertEquals(((Number) lrs.get(epoch)).doubleValue(), built.learningRate(base, epoch), 1e-12,
                        entry.getKey() + " epoch " + epoch);
            }
        }
    }

    @Test
    void warmupThenCosine() {
        LrSchedule schedule = LrSchedule.cosine(10, 0).afterWarmup(3, 0.1);
        assertEquals(0.01, schedule.learningRate(0.1, 0), 1e-12);
        assertEquals(0.1, schedule.learningRate(0.1, 3), 1e-12);
        assertEquals(0.05, schedule.learningRate(0.1, 8), 1e-12);
    }

    @Test
    void badHyperparametersAreRefused() {
        try (Tensor value = device.allocate(Shape.of(2)); Tensor grad = device.allocate(Shape.of(2))) {
            List<Parameter> parameters = List.of(new Parameter("w", value, grad));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(parameters, -0.1));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(parameters, Double.NaN));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(parameters, 0.1, 0, 0, 0, true));
            assertThrows(IllegalArgumentException.class, () -> new Adam(parameters, 0.1, 1.0, 0.999, 1e-8, 0, false));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), 0.1));
            assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0, 0.5));
        }
    }
}
