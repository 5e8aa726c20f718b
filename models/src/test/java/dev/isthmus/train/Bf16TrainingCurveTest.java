package dev.isthmus.train;

import dev.isthmus.data.Datasets;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Precision;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ResNet-20 trained in BF16 tracks its FP32 loss curve: same seed, same synthetic data (CIFAR's
 * shape), same recipe; with BF16 activations through the whole residual trunk (see Sequential),
 * each epoch's training loss stays within 5% of FP32's (plus 0.02 absolute, for a loss near
 * zero) and both fall.
 */
class Bf16TrainingCurveTest {
    private static final double EPOCH_LOSS_RELATIVE = 0.05;
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(2);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    private static List<EpochResult> train(Precision precision, Datasets.Split data) {
        try (Model model = Zoo.entry("resnet20").create().precision(precision); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 64, 3);
            try (Sgd sgd = new Sgd(model.parameters(), 0.005, 0.9, 5e-4, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(4, 64, 3))) {
                return trainer.fit(data.train(), data.test());
            }
        }
    }

    @Test
    void resnet20InBf16TracksItsFp32LossCurve() {
        Assumptions.assumeTrue(device.carriesLowPrecision(DType.BF16),
                "BF16 is not offered on this CPU: " + device.lowPrecisionSupport(DType.BF16));
        Datasets.Split data = Datasets.synthetic(Shape.of(3, 32, 32), 10, 1024, 256, 17);
        List<EpochResult> fp32 = train(Precision.FP32, data);
        List<EpochResult> bf16 = train(Precision.BF16, data);
        StringBuilder curves = new StringBuilder();
        for (int epoch = 0; epoch < fp32.size(); epoch++) {
            curves.append(String.format(" epoch %d: fp32 %.4f bf16 %.4f;", epoch + 1, fp32.get(epoch).trainLoss(),
                    bf16.get(epoch).trainLoss()));
        }
        for (int epoch = 0; epoch < fp32.size(); epoch++) {
            double expected = fp32.get(epoch).trainLoss();
            double actual = bf16.get(epoch).trainLoss();
            assertTrue(Math.abs(actual - expected) <= EPOCH_LOSS_RELATIVE * expected + 0.02,
                    "epoch " + (epoch + 1) + " loss, BF16 against FP32:" + curves);
        }
        assertTrue(fp32.getLast().trainLoss() < 0.8 * fp32.getFirst().trainLoss(), "FP32 learns:" + curves);
        assertTrue(bf16.getLast().trainLoss() < 0.8 * bf16.getFirst().trainLoss(), "BF16 learns:" + curves);
    }
}
