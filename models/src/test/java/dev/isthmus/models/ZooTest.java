package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Json;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The zoo against PyTorch's own state_dicts (fixtures/state_dicts.json from make_model_fixtures.py). */
class ZooTest {
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static Map<String, Object> catalogue() throws IOException {
        try {
            return Json.parseObject(Files.readString(Path.of(ZooTest.class.getResource("/fixtures/state_dicts.json").toURI())));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "vgg-small", "vgg-small-bn", "resnet20", "resnet32", "resnet44", "resnet56"})
    void namesShapesAndCountsMatchPyTorch(String name) throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) catalogue().get(name);
        try (Model model = Zoo.entry(name).create()) {
            model.build(device, 1, 0);
            List<List<Object>> actual = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                actual.add(List.of(parameter.name(), parameter.value().shape()));
            }
            for (NamedTensor buffer : model.buffers()) {
                actual.add(List.of(buffer.name(), buffer.tensor().shape()));
            }
            for (String counter : model.counters().keySet()) {
                if (counter.endsWith("num_batches_tracked")) {
                    actual.add(List.of(counter, Shape.of()));
                }
            }
            List<List<Object>> reference = new ArrayList<>();
            for (Object entry : (List<?>) expected.get("state_dict")) {
                List<?> item = (List<?>) entry;
                int[] dims = ((List<?>) item.get(1)).stream().mapToInt(d -> ((Number) d).intValue()).toArray();
                reference.add(List.of(item.get(0), Shape.of(dims)));
            }
            // Same set of (name, shape); PyTorch interleaves buffers with parameters, so compare sorted.
            actual.sort(java.util.Comparator.comparing(l -> (String) l.get(0)));
            reference.sort(java.util.Comparator.comparing(l -> (String) l.get(0)));
            assertEquals(reference, actual);
            assertEquals(((Number) expected.get("parameters")).longValue(), model.parameterCount());
        }
    }

    @Test
    void imagenetResNetsHaveTorchvisionsParameterCounts() {
        // torchvision's figures for 1000 classes.
        assertEquals(11_689_512L, count("resnet18", 1000));
        assertEquals(21_797_672L, count("resnet34", 1000));
        assertEquals(25_557_032L, count("resnet50", 1000));
    }

    private static long count(String name, int classes) {
        try (Model model = Zoo.entry(name).create(3, classes)) {
            // A batch of one at 64x64 keeps the buffers small; the parameters do not depend on it.
            model.root().setup(device, Shape.of(1, 3, 64, 64));
            return model.parameterCount();
        }
    }

    @Test
    void everyModelBuildsForOtherClassesAndChannels() {
        for (Zoo.Entry entry : Zoo.entries()) {
            if (entry.height() > 32) {
                continue;
            }
            try (Model model = entry.create(entry.channels() == 1 ? 1 : 4, 7)) {
                model.build(device, 2, 1);
                // Segmentation models give per-pixel logits [N, classes, H, W].
                Shape expected = model.root() instanceof UNet ? Shape.of(2, 7, entry.height(), entry.width()) : Shape.of(2, 7);
                assertEquals(expected, model.root().outputShape(), entry.name());
            }
        }
    }
}
