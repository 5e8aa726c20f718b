package dev.isthmus.device.cpu;

import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Precision;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Run in a child JVM by {@link Bf16KernelTest} with oneDNN's verbose mode on: reports the BF16
 * kernel the device picks and whether BF16 is offered, and when it is, runs a BF16 convolution's
 * forward and backward so that oneDNN logs the kernels that executed.
 */
public final class Bf16VerboseProbe {
    private Bf16VerboseProbe() {
    }

    public static void main(String[] args) {
        try (CpuDevice device = new CpuDevice()) {
            String refused = device.lowPrecisionSupport(DType.BF16);
            System.out.println("probe kernel=" + device.convolutionKernel(DType.BF16));
            System.out.println("probe refused=" + (refused == null ? "none" : refused));
            if (refused != null) {
                return;
            }
            try (Conv2d conv = Conv2d.of(32, 32, 3).padding(1)) {
                conv.setPrecision(Precision.BF16);
                Shape input = Shape.of(16, 32, 16, 16);
                conv.setup(device, input);
                try (Tensor x = device.allocateActivation(input); Tensor dy = device.allocateActivation(conv.outputShape())) {
                    device.elementwise().fill(x, 0.5f);
                    device.elementwise().fill(dy, 0.25f);
                    conv.forward(x, true);
                    conv.backward(dy);
                }
            }
            System.out.println("probe ran=yes");
        }
    }
}
