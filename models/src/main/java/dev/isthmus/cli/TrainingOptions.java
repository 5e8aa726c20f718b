package dev.isthmus.cli;

import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.AdaGrad;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.LrSchedule;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.RmsProp;
import dev.isthmus.optim.Sgd;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Parsing of the optimizer and schedule options shared by train and bench. */
final class TrainingOptions {
    private TrainingOptions() {
    }

    static Optimizer optimizer(String name, List<Parameter> parameters, double lr, double momentum, double weightDecay) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(parameters, lr, momentum, 0, weightDecay, false);
            case "nesterov" -> new Sgd(parameters, lr, momentum, 0, weightDecay, true);
            case "adam" -> new Adam(parameters, lr, 0.9, 0.999, 1e-8, weightDecay, false);
            case "adamw" -> new Adam(parameters, lr, 0.9, 0.999, 1e-8, weightDecay, true);
            case "rmsprop" -> new RmsProp(parameters, lr, 0.99, 1e-8, weightDecay, momentum, false);
            case "adagrad" -> new AdaGrad(parameters, lr, 0, weightDecay, 0, 1e-10);
            default -> throw new UsageException("train: unknown optimizer '" + name
                    + "' (sgd, nesterov, adam, adamw, rmsprop, adagrad)");
        };
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
