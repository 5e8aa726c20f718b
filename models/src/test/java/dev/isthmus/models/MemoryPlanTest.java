package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model plans its memory once (Caffe's Net, llm.c): from build through its first training step
 * it allocates a few blocks, as many for ResNet-56 as for ResNet-20, and its parameters and their
 * gradients are each one block, every tensor a view right after the previous one.
 */
class MemoryPlanTest {
    /**
     * The model's blocks (parameters, gradients, running statistics, per-batch memory, and at the
     * first backward its input gradients), the loss's two tensors, the optimizer's state block.
     */
    private static final long FEW = 8;

    @ParameterizedTest
    @EnumSource(value = CpuBackend.class, names = {"ONEDNN", "OPENBLAS"})
    void buildAndAFirstStepAllocateAFewBlocksWhateverTheDepth(CpuBackend backend) {
        long resnet20 = allocations(backend, "resnet20", MemoryPlanTest::firstStep);
        long resnet56 = allocations(backend, "resnet56", MemoryPlanTest::firstStep);
        assertEquals(resnet20, resnet56, backend + ": native allocations from build through the first step,"
                + " resnet20 vs resnet56");
        assertTrue(resnet20 <= FEW, backend + ": " + resnet20 + " native allocations from build through the first step");
    }

    @ParameterizedTest
    @EnumSource(value = CpuBackend.class, names = {"ONEDNN", "OPENBLAS"})
    void inferenceHoldsNoInputGradientMemory(CpuBackend backend) {
        long resnet20 = allocations(backend, "resnet20", MemoryPlanTest::inference);
        long resnet56 = allocations(backend, "resnet56", MemoryPlanTest::inference);
        assertEquals(resnet20, resnet56, backend + ": native allocations from build through an inference pass");
        assertTrue(resnet20 <= 4, backend + ": " + resnet20 + " allocations; parameters, gradients, statistics and"
                + " per-batch memory are four blocks, and input gradients wait for a backward");
    }

    @ParameterizedTest
    @EnumSource(value = CpuBackend.class, names = {"ONEDNN", "OPENBLAS"})
    void aPartialBatchPlansOneNewBlockAndLeavesParametersInPlace(CpuBackend backend) {
        long resnet20 = allocations(backend, "resnet20", MemoryPlanTest::partialBatch);
        long resnet56 = allocations(backend, "resnet56", MemoryPlanTest::partialBatch);
        assertEquals(1, resnet20, backend + ": a new batch size on resnet20 allocates the per-batch block only");
        assertEquals(1, resnet56, backend + ": a new batch size on resnet56 allocates the per-batch block only");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "mlp", "vgg-small-bn", "resnet20"})
    void parametersAndGradientsAreEachOneBlockInParameterOrder(String name) {
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry(name).create().build(device, 4, 0)) {
            List<Parameter> parameters = model.parameters();
            List<Tensor> values = new ArrayList<>();
            List<Tensor> grads = new ArrayList<>();
            for (Parameter parameter : parameters) {
                values.add(parameter.value());
                grads.add(parameter.grad());
            }
            assertBackToBack(name + " parameters", model.parameterBlock(), values, model.parameterCount());
            assertBackToBack(name + " gradients", model.gradientBlock(), grads, model.parameterCount());
            assertNotNull(Tensor.flatSpan(grads), name + ": the gradients are one contiguous span");
            assertTrue(!model.gradientBlock().sharesMemoryWith(model.parameterBlock()), name + ": two blocks");
        }
    }

    private static void assertBackToBack(String what, Tensor block, List<Tensor> tensors, long count) {
        assertNotNull(block, what + ": no block");
        assertEquals(count, block.elementCount(), what + ": the block holds exactly the parameters");
        long address = block.memory().address();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor tensor = tensors.get(i);
            assertTrue(tensor.sharesMemoryWith(block), what + " " + i + " is a view of the block");
            assertEquals(address, tensor.memory().address(), what + " " + i + " starts where the previous one ends");
            address += tensor.byteSize();
        }
        assertEquals(block.memory().address() + block.byteSize(), address, what + ": no gap at the end");
    }

    /** Native allocations {@code work} makes on a fresh device, after its own inputs exist. */
    private static long allocations(CpuBackend backend, String name, Function<Context, Long> work) {
        try (CpuDevice device = open(backend); Model model = Zoo.entry(name).create();
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Tensor x = device.fromArray(model.batchShape(4), TestData.uniform(4 * 3 * 32 * 32, 1, 1));
             Tensor partial = device.fromArray(model.batchShape(3), TestData.uniform(3 * 3 * 32 * 32, 1, 2));
             Tensor labels = device.fromInts(Shape.of(4), TestData.labels(4, 10, 3))) {
            return work.apply(new Context(device, model, loss, x, partial, labels));
        }
    }

    private static CpuDevice open(CpuBackend backend) {
        try {
            return new CpuDevice(2, backend);
        } catch (IllegalStateException unavailable) {
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }

    private record Context(CpuDevice device, Model model, CrossEntropyLoss loss, Tensor x, Tensor partial, Tensor labels) {
    }

    private static long firstStep(Context c) {
        long before = c.device().allocationCount();
        c.model().build(c.device(), 4, 0);
        try (Sgd sgd = new Sgd(c.model().parameters(), 0.1, 0.9, 0, 5e-4, false)) {
            sgd.zeroGrad();
            c.loss().forward(c.model().forward(c.x(), true), c.labels(), true);
            c.model().backward(c.loss().backward());
            sgd.step();
            return c.device().allocationCount() - before;
        }
    }

    private static long inference(Context c) {
        long before = c.device().allocationCount();
        c.model().build(c.device(), 4, 0);
        c.model().forward(c.x(), false);
        return c.device().allocationCount() - before;
    }

    private static long partialBatch(Context c) {
        c.model().build(c.device(), 4, 0);
        c.model().forward(c.x(), true);
        List<float[]> weights = new ArrayList<>();
        List<Long> addresses = new ArrayList<>();
        for (Parameter parameter : c.model().parameters()) {
            weights.add(parameter.value().toFloatArray());
            addresses.add(parameter.value().memory().address());
        }
        long before = c.device().allocationCount();
        c.model().forward(c.partial(), true);
        long made = c.device().allocationCount() - before;
        List<Parameter> parameters = c.model().parameters();
        for (int i = 0; i < parameters.size(); i++) {
            assertEquals(addresses.get(i), parameters.get(i).value().memory().address(), parameters.get(i).name() + " moved");
            assertArrayEquals(weights.get(i), parameters.get(i).value().toFloatArray(), parameters.get(i).name() + " changed");
        }
        return made;
    }
}
