package dev.isthmus.bench.report;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A zoo model's floating-point operations per image, for the report's GFLOP/s per row: 2 × the
 * multiply-adds of its convolutions ({@code ConvGeometry.multiplyAdds}, as the kernel rows and
 * {@code bench --profile} count them) and linear layers (in × out). Pooling, normalisation and
 * activations are left out, as the usual convention leaves them (they are a few percent at most
 * here). The model is built at batch 1 on a CPU device so that every convolution knows its input
 * size, then closed.
 */
final class ModelFlops {
    private static final Map<String, Double> CACHE = new ConcurrentHashMap<>();

    private ModelFlops() {
    }

    /**
     * {@return forward FLOPs per image of the zoo model {@code name}, or NaN when the zoo has no such model}
     *
     * @param name the model's zoo name (lenet5, vgg-small...)
     */
    static double forwardPerImage(String name) {
        return CACHE.computeIfAbsent(name, ModelFlops::count);
    }

    /**
     * {@return FLOPs per image of one {@code mode} pass: the forward for inference, 3 × the forward for a
     * training step (forward, backward-data and backward-weights each cost about one forward)}
     *
     * @param name the model's zoo name
     * @param mode {@code train} or {@code infer}
     */
    static double perImage(String name, String mode) {
        double forward = forwardPerImage(name);
        return mode.startsWith("train") ? 3 * forward : forward;
    }

    private static double count(String name) {
        Zoo.Entry entry;
        try {
            entry = Zoo.entry(name);
        } catch (IllegalArgumentException unknown) {
            return Double.NaN;
        }
        try (Device device = new CpuDevice(); Model model = entry.create()) {
            model.build(device, 1, 0);
            return 2.0 * multiplyAdds(model.root());
        }
    }

    private static long multiplyAdds(Layer layer) {
        long total = switch (layer) {
            case Conv2d conv -> conv.geometry().multiplyAdds();
            case Linear linear -> (long) linear.inFeatures() * linear.outFeatures();
            default -> 0;
        };
        for (Layer child : layer.children().values()) {
            total += multiplyAdds(child);
        }
        return total;
    }
}
