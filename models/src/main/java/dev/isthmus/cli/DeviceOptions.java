package dev.isthmus.cli;

import dev.isthmus.device.Devices;
import dev.isthmus.nn.Precision;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** --device, --threads and --precision: where and in what a command computes. */
final class DeviceOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = "--device", paramLabel = "cpu|cuda|cuda:N|auto", defaultValue = "cpu", order = 40,
            description = "where to compute (default: ${DEFAULT-VALUE}; auto: the GPU when one is usable)")
    String device;

    int threads;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", order = 41,
            description = "CPU threads (default: all cores)")
    void threads(int value) {
        threads = Bounds.check(command, "--threads", value, 0, 1024);
    }

    @Option(names = "--precision", paramLabel = "fp32|bf16|fp16", defaultValue = "fp32", order = 42,
            description = "compute precision (default: ${DEFAULT-VALUE}); bf16/fp16: convolutions and linear layers on "
                    + "16-bit operands with F32 accumulation, master weights, statistics and optimizer (autocast's policy)")
    void precision(String value) {
        try {
            precision = Precision.parse(value);
        } catch (IllegalArgumentException bad) {
            throw new picocli.CommandLine.ParameterException(command.commandLine(), "--precision: " + bad.getMessage());
        }
    }

    Precision precision = Precision.FP32;

    Devices.Choice open() {
        return Devices.open(device, threads);
    }
}
