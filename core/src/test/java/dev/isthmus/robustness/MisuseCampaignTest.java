package dev.isthmus.robustness;

import dev.isthmus.data.DataLoader;
import dev.isthmus.data.SyntheticDataset;
import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.device.Transpose;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.AvgPool2d;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.AdaGrad;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.RmsProp;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The misuse campaign over the public API (issue 7): shapes, tensors, devices, every layer kind,
 * losses, optimizers and loaders, with generated arguments — wrong shapes and ranks, negative and
 * huge sizes, mismatched devices and layouts, closed tensors, NaN and infinite values, empty
 * batches. Every case must succeed or end in a documented exception that names the operation.
 * The counts land in target/robustness/misuse-cases.txt.
 */
class MisuseCampaignTest {
    private static Device cpu;
    private static Device other;

    @BeforeContainer
    static void open() {
        cpu = new CpuDevice(2);
        other = new CpuDevice(1, CpuBackend.OPENBLAS);
    }

    @AfterContainer
    static void close() throws IOException {
        cpu.close();
        other.close();
        Outcomes.write();
    }

    @Provide
    Arbitrary<int[]> dims() {
        Arbitrary<Integer> dim = Arbitraries.oneOf(Arbitraries.integers().between(-3, 9),
                Arbitraries.of(0, 1, 65_536, Integer.MAX_VALUE, Integer.MIN_VALUE));
        return dim.array(int[].class).ofMinSize(0).ofMaxSize(5);
    }

    @Property
    void shapesAreValidOrRefused(@ForAll("dims") int[] dims) {
        Outcomes.run("shape", "shape", () -> {
            Shape shape = Shape.of(dims);
            if (shape.elementCount() < 1 << 16 && shape.rank() > 0) {
                try (Tensor tensor = cpu.allocate(shape)) {
                    tensor.ensureOpen();
                }
            }
        });
    }

    @Provide
    Arbitrary<Integer> small() {
        return Arbitraries.integers().between(-2, 7);
    }

    @Property
    void elementwiseAndCopyOpsOnMismatchedTensors(@ForAll("small") int a0, @ForAll("small") int a1, @ForAll("small") int b0,
                                                   @ForAll("small") int b1, @ForAll @IntRange(min = 0, max = 9) int op,
                                                   @ForAll boolean closeOne, @ForAll boolean otherDevice, @ForAll boolean ints) {
        Outcomes.run("elementwise", null, () -> {
            try (Tensor a = cpu.allocate(Shape.of(a0, a1)); Tensor b = (otherDevice ? other : cpu).allocate(Shape.of(b0, b1),
                    ints ? DType.I32 : DType.F32)) {
                if (closeOne) {
                    b.close();
                }
                switch (op) {
                    case 0 -> cpu.elementwise().add(a, b, a);
                    case 1 -> cpu.elementwise().mul(a, b, b);
                    case 2 -> cpu.blas().axpy(2f, a, b);
                    case 3 -> cpu.copy(a, b);
                    case 4 -> cpu.blas().scale(b, Float.NaN);
                    case 5 -> cpu.elementwise().fill(b, Float.POSITIVE_INFINITY);
                    case 6 -> cpu.activations().forward(Activation.values()[Math.floorMod(a0, 6)], 0.1f, a, b);
                    case 7 -> cpu.reductions().sumOfSquares(b);
                    case 8 -> b.copyFrom(new float[Math.max(0, a0 * a1)]);
                    default -> cpu.activations().softmaxForward(a0 % 2 == 0, a, b);
                }
            }
        });
    }

    @Property
    void gemmWithArbitraryDimensionsAndOffsets(@ForAll @IntRange(min = -2, max = 12) int m, @ForAll @IntRange(min = -2, max = 12) int n,
                                               @ForAll @IntRange(min = -2, max = 12) int k, @ForAll @IntRange(min = -3, max = 14) int lda,
                                               @ForAll @IntRange(min = -3, max = 14) int ldb, @ForAll @IntRange(min = -3, max = 14) int ldc,
                                               @ForAll @IntRange(min = -2, max = 60) int offset, @ForAll boolean ta, @ForAll boolean tb) {
        Outcomes.run("gemm", "gemm", () -> {
            try (Tensor a = cpu.allocate(Shape.of(64)); Tensor b = cpu.allocate(Shape.of(100)); Tensor c = cpu.allocate(Shape.of(81))) {
                cpu.blas().gemm(Transpose.of(ta), Transpose.of(tb), m, n, k, 1f, a, offset, lda, b, 0, ldb, 0.5f, c, 0, ldc);
            }
        });
    }

    @Provide
    Arbitrary<Layer> layers() {
        Arbitrary<Integer> size = Arbitraries.integers().between(-1, 6);
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-1, 5).tuple3().map(t -> new Linear(t.get1(), t.get2(), t.get3() % 2 == 0)),
                size.tuple5().map(t -> new Conv2d(t.get1(), t.get2(), t.get3(), t.get4(), t.get5(), t.get1() % 2 == 0)),
                size.tuple3().map(t -> new MaxPool2d(t.get1(), t.get2(), t.get3())),
                size.tuple3().map(t -> new AvgPool2d(t.get1(), t.get2(), t.get3(), t.get1() % 2 == 0)),
                size.map(BatchNorm2d::new),
                Arbitraries.floats().between(-1f, 2f).map(Dropout::new));
    }

    /** A layer is made from raw arguments, set up on a random input, and run forward and backward on NaN-laced data. */
    @Property
    void layersRefuseWhatDoesNotFitAndSurviveWhatDoes(@ForAll @IntRange(min = 0, max = 10) int kind,
                                                      @ForAll("small") int p1, @ForAll("small") int p2, @ForAll("small") int p3,
                                                      @ForAll("dims") int[] input, @ForAll boolean poison, @ForAll boolean rowMajor) {
        Outcomes.run("layer", null, () -> {
            try (Layer layer = switch (kind) {
                case 0 -> new Linear(p1, p2, p3 % 2 == 0);
                case 1 -> new Conv2d(p1, p2, p3, Math.max(1, p1 % 3), Math.max(0, p2 % 2), true);
                case 2 -> new MaxPool2d(p1, p2, p3);
                case 3 -> new AvgPool2d(p1, p2, p3, true);
                case 4 -> new BatchNorm2d(p1);
                case 5 -> new Dropout(p1 / 8f);
                case 6 -> new dev.isthmus.nn.LocalResponseNorm(p1, p2 / 4.0, p3 / 4.0, 1 + p1 % 3);
                case 7 -> new dev.isthmus.nn.Maxout(p1);
                case 8 -> new dev.isthmus.nn.ConvTranspose2d(p1, p2, p3, Math.max(1, p1 % 3), Math.max(0, p2 % 2),
                        Math.max(0, p3 % 2), 1, 1, p1 % 2 == 0);
                case 9 -> new dev.isthmus.nn.Concat(new Conv2d(p1, p2, p3, 1, Math.max(0, p3 / 2), true),
                        new dev.isthmus.nn.Identity());
                default -> new dev.isthmus.nn.AdaptiveAvgPool2d(p1, p2);
            }) {
                Shape shape = Shape.of(input);
                if (shape.elementCount() > 1 << 14) {
                    return;
                }
                Shape output = layer.setup(cpu, shape);
                layer.resetParameters(new SplittableRandom(p1));
                float[] values = dev.isthmus.testing.TestData.uniform((int) shape.elementCount(), 2, p2);
                if (poison && values.length > 0) {
                    values[0] = Float.NaN;
                    values[values.length - 1] = Float.NEGATIVE_INFINITY;
                }
                try (Tensor x = (rowMajor || shape.rank() != 4 ? cpu.allocate(shape) : cpu.allocateActivation(shape)).copyFrom(values);
                     Tensor dy = cpu.allocateActivation(output)) {
                    layer.forward(x, true);
                    layer.backward(dy);
                    layer.forward(x, false);
                }
            }
        });
    }

    @Property
    void lossesRefuseBadLabelsAndShapes(@ForAll @IntRange(min = -1, max = 6) int batch, @ForAll @IntRange(min = -1, max = 6) int classes,
                                        @ForAll @IntRange(min = -3, max = 9) int label, @ForAll @IntRange(min = 0, max = 4) int kind,
                                        @ForAll boolean nan, @ForAll float smoothingOrBeta) {
        Outcomes.run("loss", null, () -> {
            Shape logitsShape = Shape.of(batch, classes);
            try (Tensor logits = cpu.allocate(logitsShape); Tensor loss = cpu.allocate(Shape.of(1))) {
                if (nan && logits.elementCount() > 0) {
                    cpu.elementwise().fill(logits, Float.NaN);
                }
                if (kind == 0) {
                    int[] labels = new int[Math.max(0, batch)];
                    java.util.Arrays.fill(labels, label);
                    try (Tensor target = cpu.fromInts(Shape.of(Math.max(0, batch)), labels); CrossEntropyLoss ce = new CrossEntropyLoss(smoothingOrBeta)) {
                        ce.forward(logits, target, true);
                    }
                } else {
                    try (Tensor target = cpu.allocate(Shape.of(Math.max(0, batch), Math.max(0, classes + label % 2)))) {
                        cpu.losses().pointwise(PointwiseLoss.values()[kind - 1], smoothingOrBeta, logits, target, loss, null);
                    }
                }
            }
        });
    }

    @Property
    void countCorrectRefusesWhatDoesNotFitAndNeverReadsABadLabel(@ForAll @IntRange(min = 0, max = 6) int batch,
                                                                 @ForAll @IntRange(min = 0, max = 6) int classes,
                                                                 @ForAll @IntRange(min = -3, max = 9) int label,
                                                                 @ForAll @IntRange(min = -1, max = 8) int k,
                                                                 @ForAll @IntRange(min = -1, max = 1) int labelSkew,
                                                                 @ForAll boolean nan, @ForAll boolean floatCounter) {
        Outcomes.run("countCorrect", "countCorrect", () -> {
            int[] labels = new int[Math.max(0, batch + labelSkew)];
            java.util.Arrays.fill(labels, label);
            try (Tensor logits = cpu.allocate(Shape.of(batch, classes)); Tensor target = cpu.fromInts(Shape.of(labels.length), labels);
                 Tensor counter = floatCounter ? cpu.allocate(Shape.of(1)) : cpu.allocate(Shape.of(1), DType.I32)) {
                if (nan && logits.elementCount() > 0) {
                    cpu.elementwise().fill(logits, Float.NaN);
                }
                cpu.reductions().countCorrect(logits, target, k, counter);
                int hits = counter.toIntArray()[0];
                if (hits < 0 || hits > batch) {
                    throw new AssertionError("countCorrect: " + hits + " hits in a batch of " + batch);
                }
            }
        });
    }

    @Property
    void optimizersRefuseImpossibleHyperparameters(@ForAll @IntRange(min = 0, max = 4) int kind, @ForAll double lr,
                                                   @ForAll double second, @ForAll double third) {
        Outcomes.run("optimizer", null, () -> {
            try (Tensor w = cpu.allocate(Shape.of(3)); Tensor g = cpu.allocate(Shape.of(3))) {
                List<Parameter> parameters = List.of(new Parameter("w", w, g));
                var optimizer = switch (kind) {
                    case 0 -> new Sgd(parameters, lr, second, third, 0, false);
                    case 1 -> new Adam(parameters, lr, second, 0.999, third, 0, false);
                    case 2 -> new RmsProp(parameters, lr, second, third, 0, 0, false);
                    case 3 -> new AdaGrad(parameters, lr, second, third, 0, 1e-10);
                    default -> new Sgd(parameters, lr, second, 0, third, true);
                };
                try (optimizer) {
                    optimizer.step();
                    optimizer.setLearningRate(second);
                }
            }
        });
    }

    @Property
    void distillationAndParameterGroupsRefuseWhatCannotWork(@ForAll @IntRange(min = -1, max = 5) int batch,
                                                           @ForAll @IntRange(min = -1, max = 5) int classes,
                                                           @ForAll @IntRange(min = -1, max = 1) int teacherSkew,
                                                           @ForAll float temperature, @ForAll float alpha, @ForAll double lr,
                                                           @ForAll double l1, @ForAll boolean nan) {
        Outcomes.run("distillation", null, () -> {
            try (Tensor logits = cpu.allocate(Shape.of(batch, classes));
                 Tensor teacher = cpu.allocate(Shape.of(batch, classes + teacherSkew));
                 Tensor labels = cpu.fromInts(Shape.of(Math.max(0, batch)), new int[Math.max(0, batch)]);
                 dev.isthmus.loss.DistillationLoss loss = new dev.isthmus.loss.DistillationLoss(temperature, alpha)) {
                if (nan && teacher.elementCount() > 0) {
                    cpu.elementwise().fill(teacher, Float.NaN);
                }
                loss.useTeacherLogits(teacher);
                loss.forward(logits, labels, true);
            }
        });
        Outcomes.run("parameter groups", null, () -> {
            try (Tensor w = cpu.allocate(Shape.of(3)); Tensor g = cpu.allocate(Shape.of(3));
                 Sgd sgd = new Sgd(List.of(new Parameter("w", w, g)), 0.1)) {
                sgd.setParameterGroups(List.of(new dev.isthmus.optim.ParameterGroup("w", lr, Double.NaN, l1)));
                sgd.step();
                cpu.optimizers().l1Penalty(w, g, (float) l1);
            }
        });
    }

    @Property
    void loadersRefuseImpossibleBatches(@ForAll @IntRange(min = -2, max = 70) int size, @ForAll @IntRange(min = -2, max = 80) int batch,
                                        @ForAll boolean dropLast, @ForAll @IntRange(min = -1, max = 3) int epoch) {
        Outcomes.run("loader", null, () -> {
            try (DataLoader loader = new DataLoader(new SyntheticDataset(Shape.of(1, 4, 4), 3, size, 1), batch, true, dropLast, 5,
                    null, null, size % 2 == 0)) {
                loader.startEpoch(epoch);
                while (loader.next() != null) {
                    // draining the epoch is the case
                }
            }
        });
    }

    /** Two threads on one device: each operation either runs or is refused with "in use", never both at once. */
    @Property(tries = 200)
    void aDeviceRefusesASecondThreadInsteadOfRacing(@ForAll @IntRange(min = 1, max = 200) int size) throws Exception {
        Shape shape = Shape.of(size, 64);
        try (Tensor a = cpu.allocateActivation(shape); Tensor b = cpu.allocateActivation(shape)) {
            Runnable work = () -> {
                for (int i = 0; i < 50; i++) {
                    Outcomes.run("threads", null, () -> cpu.elementwise().add(a, b, a));
                }
            };
            Thread second = Thread.ofPlatform().start(work);
            work.run();
            second.join();
        }
        try (Tensor c = cpu.allocate(Shape.of(2), DType.F32, Layout.ROW_MAJOR)) {
            c.ensureOpen();
        }
    }
}
