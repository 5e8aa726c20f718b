package dev.isthmus.cli;

import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.AdaGrad;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.LrSchedule;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.RmsProp;
import dev.isthmus.optim.Sgd;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The optimizer, schedule and stopping options of training, and what they build. */
final class TrainingOptions {
    static final List<String> OPTIMIZERS = List.of("sgd", "nesterov", "adam", "adamw", "rmsprop", "adagrad");

    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    int epochs;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10", order = 20,
            description = "passes over the training set (default: ${DEFAULT-VALUE})")
    void epochs(int value) {
        epochs = Bounds.check(command, "--epochs", value, 1, 100_000);
    }

    double lr;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.01", order = 22,
            description = "learning rate (default: ${DEFAULT-VALUE})")
    void lr(double value) {
        lr = Bounds.check(command, "--lr", value, 0, 1e6);
    }

    String optimizer;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "sgd", order = 23,
            description = "sgd, nesterov, adam, adamw, rmsprop or adagrad (default: ${DEFAULT-VALUE})")
    void optimizer(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (!OPTIMIZERS.contains(lower)) {
            throw new ParameterException(command.commandLine(), "unknown --optimizer '" + name + "' ("
                    + String.join(", ", OPTIMIZERS) + ")");
        }
        optimizer = lower;
    }

    double momentum;

    @Option(names = "--momentum", paramLabel = "X", defaultValue = "0.9", order = 24,
            description = "momentum of sgd, nesterov and rmsprop (default: ${DEFAULT-VALUE})")
    void momentum(double value) {
        momentum = Bounds.check(command, "--momentum", value, 0, 1);
    }

    double weightDecay;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "0", order = 25,
            description = "L2 penalty (decoupled for adamw) (default: ${DEFAULT-VALUE})")
    void weightDecay(double value) {
        weightDecay = Bounds.check(command, "--weight-decay", value, 0, 1e3);
    }

    @Option(names = "--schedule", paramLabel = "SPEC", defaultValue = "constant", order = 26,
            description = {"learning-rate schedule per epoch: constant, step:SIZE:GAMMA, multistep:E1,E2,...:GAMMA, "
                    + "exponential:GAMMA, cosine[:TMAX[:ETA_MIN]] or linear:START:EPOCHS, each optionally after "
                    + "warmup:EPOCHS+ (e.g. warmup:2+cosine) (default: ${DEFAULT-VALUE})"})
    String schedule;

    double clipNorm;

    @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0", order = 27,
            description = "clip the gradients' global L2 norm to X (default: no clipping)")
    void clipNorm(double value) {
        clipNorm = Bounds.check(command, "--clip-norm", value, 0, 1e12);
    }

    int patience;

    @Option(names = "--patience", paramLabel = "N", defaultValue = "0", order = 28,
            description = "stop after N epochs without a better test accuracy (default: never)")
    void patience(int value) {
        patience = Bounds.check(command, "--patience", value, 0, 100_000);
    }

    float labelSmoothing;

    @Option(names = "--label-smoothing", paramLabel = "E", defaultValue = "0", order = 29,
            description = "cross-entropy label smoothing (default: ${DEFAULT-VALUE})")
    void labelSmoothing(double value) {
        labelSmoothing = (float) Bounds.check(command, "--label-smoothing", value, 0, 1);
    }

    Optimizer optimizer(List<Parameter> parameters) {
        return switch (optimizer) {
            case "sgd" -> new Sgd(parameters, lr, momentum, 0, weightDecay, false);
            case "nesterov" -> new Sgd(parameters, lr, momentum, 0, weightDecay, true);
            case "adam" -> new Adam(parameters, lr, 0.9, 0.999, 1e-8, weightDecay, false);
            case "adamw" -> new Adam(parameters, lr, 0.9, 0.999, 1e-8, weightDecay, true);
            case "rmsprop" -> new RmsProp(parameters, lr, 0.99, 1e-8, weightDecay, momentum, false);
            case "adagrad" -> new AdaGrad(parameters, lr, 0, weightDecay, 0, 1e-10);
            default -> throw new IllegalStateException("optimizer '" + optimizer + "' passed --optimizer's check");
        };
    }

    LrSchedule schedule() {
        return schedule(schedule, epochs);
    }

    /**
     * constant | step:SIZE:GAMMA | multistep:E1,E2,...:GAMMA | exponential:GAMMA | cosine[:TMAX[:ETA_MIN]]
     * | linear:START:EPOCHS, each optionally prefixed by warmup:EPOCHS+ (e.g. warmup:2+cosine).
     */
    static LrSchedule schedule(String spec, int epochs) {
        String text = spec.trim().toLowerCase(Locale.ROOT);
        try {
            if (text.startsWith("warmup:")) {
                int plus = text.indexOf('+');
                if (plus < 0) {
                    throw new UsageException("train: --schedule warmup:EPOCHS+SCHEDULE, e.g. warmup:2+cosine");
                }
                int warmup = Integer.parseInt(text.substring("warmup:".length(), plus));
                return schedule(text.substring(plus + 1), Math.max(1, epochs - warmup)).afterWarmup(warmup, 0.1);
            }
            String[] parts = text.split(":");
            return switch (parts[0]) {
                case "constant" -> LrSchedule.constant();
                case "step" -> LrSchedule.step(Integer.parseInt(parts[1]), Double.parseDouble(parts[2]));
                case "multistep" -> LrSchedule.multiStep(Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray(),
                        Double.parseDouble(parts[2]));
                case "exponential" -> LrSchedule.exponential(Double.parseDouble(parts[1]));
                case "cosine" -> LrSchedule.cosine(parts.length > 1 ? Integer.parseInt(parts[1]) : epochs,
                        parts.length > 2 ? Double.parseDouble(parts[2]) : 0);
                case "linear" -> LrSchedule.linear(Double.parseDouble(parts[1]), 1.0, Integer.parseInt(parts[2]));
                default -> throw new UsageException("train: unknown schedule '" + spec + "'");
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException malformed) {
            throw new UsageException("train: cannot read --schedule '" + spec + "' (constant, step:SIZE:GAMMA, "
                    + "multistep:E1,E2:GAMMA, exponential:GAMMA, cosine[:TMAX[:ETA_MIN]], linear:START:EPOCHS, warmup:N+...)");
        } catch (IllegalArgumentException invalid) {
            throw new UsageException("train: --schedule '" + spec + "': " + invalid.getMessage());
        }
    }
}
