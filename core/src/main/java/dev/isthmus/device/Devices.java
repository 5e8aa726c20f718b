package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuDevice;

/**
 * Opens devices by name: {@code cpu}, {@code cuda}, {@code cuda:N}, or {@code auto} (the first GPU
 * when CUDA works, otherwise the CPU, with the reason recorded).
 */
public final class Devices {
    private Devices() {
    }

    /**
     * The outcome of choosing a device: the device, and why it was chosen.
     *
     * @param device the device chosen
     * @param reason why it was chosen
     */
    public record Choice(Device device, String reason) {
    }

    /**
     * Opens the device named by {@code spec}.
     *
     * @param spec    "cpu", "cuda", "cuda:N" or "auto"
     * @param threads CPU threads (0: all cores)
     * @return the device and why it was chosen
     */
    public static Choice open(String spec, int threads) {
        if (spec == null) {
            throw new IllegalArgumentException("device: expected cpu, cuda, cuda:N or auto, got null");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("device: threads must be >= 0, got " + threads);
        }
        String normalized = spec.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (normalized) {
            case "cpu" -> new Choice(cpu(threads), "requested");
            case "auto" -> auto(threads);
            default -> {
                if (normalized.equals("cuda") || normalized.startsWith("cuda:")) {
                    int index = cudaIndex(normalized);
                    yield new Choice(cuda(index), "requested");
                }
                throw new IllegalArgumentException("device: expected cpu, cuda, cuda:N or auto, got '" + spec + "'");
            }
        };
    }

    /**
     * The CPU, using every available core.
     *
     * @return the CPU device; close it when done
     */
    public static Device cpu() {
        return new CpuDevice();
    }

    /**
     * The CPU with {@code threads} threads for its native libraries and loops.
     *
     * @param threads CPU threads (0: all cores)
     * @return the device; close it when done
     */
    public static Device cpu(int threads) {
        return threads == 0 ? new CpuDevice() : new CpuDevice(threads);
    }

    /**
     * The GPU with ordinal {@code index}; throws with the reason when CUDA is unusable.
     *
     * @param index the GPU's ordinal
     * @return the GPU; close it when done
     */
    public static Device cuda(int index) {
        return CudaSupport.open(index);
    }

    private static Choice auto(int threads) {
        String why = CudaSupport.unavailableReason();
        if (why == null) {
            try {
                return new Choice(cuda(0), "CUDA is available");
            } catch (RuntimeException failed) {
                why = failed.getMessage();
            }
        }
        return new Choice(cpu(threads), "CUDA unavailable: " + why);
    }

    private static int cudaIndex(String spec) {
        if (spec.equals("cuda")) {
            return 0;
        }
        try {
            int index = Integer.parseInt(spec.substring("cuda:".length()));
            if (index < 0) {
                throw new NumberFormatException();
            }
            return index;
        } catch (NumberFormatException bad) {
            throw new IllegalArgumentException("device: '" + spec + "' is not cuda:N with N a device ordinal");
        }
    }
}
