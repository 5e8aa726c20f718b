package dev.isthmus.cli;

import dev.isthmus.device.Devices;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** --device and --threads: where a command computes. */
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

    Devices.Choice open() {
        return Devices.open(device, threads);
    }
}
