package dev.isthmus.cli;

import dev.isthmus.data.ClassSubset;
import dev.isthmus.data.Datasets;
import dev.isthmus.device.Device;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.LoadReport;
import dev.isthmus.loss.DistillationLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.ParameterGroup;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fine-tuning and distillation options of {@code train}: start from another checkpoint's weights
 * (what fits), freeze layers, parameter groups and L1, a class subset, and a teacher. Kept apart
 * from {@link TrainingOptions} so that each concern has its own mixin.
 */
final class FineTuneOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = "--init", paramLabel = "FILE", order = 60,
            description = {"start from this checkpoint's weights, loading every tensor whose name and shape fit and "
                    + "listing the rest (load_state_dict(strict=False); a tensor of another shape, such as a "
                    + "1000-class head, is skipped); optimizer state and epochs start afresh"})
    Path init;

    @Option(names = "--freeze", paramLabel = "LAYERS", split = ",", order = 61,
            description = {"comma-separated layer names or prefixes (features, layer1, conv1) whose parameters get no "
                    + "gradient and no optimizer state; backward stops below the lowest layer still trained"})
    List<String> freeze = List.of();

    @Option(names = "--lr-groups", paramLabel = "PREFIX=LR[:wd=X][:l1=Y],...", order = 62,
            description = {"parameter groups by name prefix with their own learning rate, weight decay (L2, as "
                    + "torch.optim) and L1 penalty, e.g. fc=0.01,*=0.001; the first group that covers a name wins; "
                    + "parameters no group covers keep --lr and --weight-decay; a schedule scales every group alike"})
    String lrGroups;

    double l1;

    @Option(names = "--l1", paramLabel = "X", defaultValue = "0", order = 63,
            description = {"L1 penalty X·Σ|w|, added to the gradient as X·sign(w) before each update, for the groups "
                    + "that set no l1= of their own (without --lr-groups: every parameter) (default: none)"})
    void l1(double value) {
        l1 = Bounds.check(command, "--l1", value, 0, 1e3);
    }

    @Option(names = "--only-classes", paramLabel = "A-B|A,B,...", order = 64,
            description = {"train and test on these classes of the dataset only, relabelled 0, 1, ... in the order "
                    + "given (e.g. 5-9); --limit and --test-limit count images before the selection"})
    String classes;

    @Option(names = "--teacher", paramLabel = "MODEL:CHECKPOINT", order = 65,
            description = {"distil from this trained zoo model: the loss becomes "
                    + "alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha)·CE(student, labels), "
                    + "the teacher run in eval mode on every batch"})
    String teacher;

    float temperature;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "2", order = 66,
            description = "distillation temperature (default: ${DEFAULT-VALUE})")
    void temperature(double value) {
        temperature = (float) Bounds.check(command, "--temperature", value, 1e-3, 1e3);
    }

    float alpha;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "0.5", order = 67,
            description = "weight of the teacher's soft targets; 1 − A weighs the labels (default: ${DEFAULT-VALUE})")
    void alpha(double value) {
        alpha = (float) Bounds.check(command, "--alpha", value, 0, 1);
    }

    /** Checks what cannot go together, before anything is loaded. */
    void validate(String commandName, Path resume, float labelSmoothing) {
        if (init != null && resume != null) {
            throw new UsageException(commandName + ": --init starts a new run from weights, --resume continues one: "
                    + "give one of them");
        }
        if (teacher != null && labelSmoothing != 0) {
            throw new UsageException(commandName + ": --label-smoothing does not apply to the distillation loss of --teacher");
        }
    }

    /** The dataset restricted to --only-classes, relabelled, or as it is. */
    Datasets.Split selectClasses(Datasets.Split data) {
        if (classes == null) {
            return data;
        }
        int[] chosen = parseClasses(classes);
        try {
            return new Datasets.Split(new ClassSubset(data.train(), chosen), new ClassSubset(data.test(), chosen));
        } catch (IllegalArgumentException invalid) {
            throw new UsageException("train: --only-classes " + classes + ": " + invalid.getMessage());
        }
    }

    static int[] parseClasses(String text) {
        List<Integer> chosen = new ArrayList<>();
        try {
            for (String part : text.split(",")) {
                String trimmed = part.trim();
                int dash = trimmed.indexOf('-');
                if (dash > 0) {
                    int from = Integer.parseInt(trimmed.substring(0, dash).trim());
                    int to = Integer.parseInt(trimmed.substring(dash + 1).trim());
                    if (to < from) {
                        throw new UsageException("train: --only-classes range '" + trimmed + "' runs backwards");
                    }
                    for (int c = from; c <= to; c++) {
                        chosen.add(c);
                    }
                } else {
                    chosen.add(Integer.parseInt(trimmed));
                }
            }
        } catch (NumberFormatException bad) {
            throw new UsageException("train: --only-classes takes A-B or A,B,... (class numbers), got '" + text + "'");
        }
        return chosen.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Freezes the --freeze layers (before build); returns the frozen parameter names. */
    List<String> freeze(Model model) {
        if (freeze.isEmpty()) {
            return List.of();
        }
        try {
            return model.freeze(freeze);
        } catch (IllegalArgumentException unknown) {
            throw new UsageException("train: --freeze: " + unknown.getMessage());
        }
    }

    /** Loads what fits from --init (after build) and says what it skipped; null without --init. */
    LoadReport initialise(Model model, PrintStream out) throws IOException {
        if (init == null) {
            return null;
        }
        LoadReport report = Checkpoint.loadMatching(init, model);
        out.printf("initialised from %s: %d tensors loaded%n", init, report.loaded().size());
        String skipped = report.describeSkipped();
        if (!skipped.isEmpty()) {
            out.print(skipped);
        }
        return report;
    }

    /** Applies --lr-groups and --l1 to the optimizer. */
    void configure(Optimizer optimizer, double learningRate) {
        List<ParameterGroup> groups;
        try {
            if (lrGroups != null) {
                groups = ParameterGroup.parse(lrGroups, l1);
            } else if (l1 > 0) {
                groups = List.of(new ParameterGroup("*", learningRate, Double.NaN, l1));
            } else {
                return;
            }
            optimizer.setParameterGroups(groups);
        } catch (IllegalArgumentException invalid) {
            throw new UsageException("train: --lr-groups: " + invalid.getMessage());
        }
    }

    /** The --teacher model, built on {@code device} with its checkpoint loaded (strictly); null without --teacher. */
    Model openTeacher(Device device, int channels, int classes, int batch) throws IOException {
        if (teacher == null) {
            return null;
        }
        int colon = teacher.indexOf(':');
        if (colon <= 0 || colon == teacher.length() - 1) {
            throw new UsageException("train: --teacher takes MODEL:CHECKPOINT, e.g. lenet5:teacher.safetensors, got '"
                    + teacher + "'");
        }
        Zoo.Entry entry = SummaryCommand.zooEntry(teacher.substring(0, colon));
        Model model = entry.create(channels, classes);
        try {
            // The teacher only runs eval-mode forwards: its layers share activation memory.
            model.inferenceOnly().build(device, batch, 0);
            Checkpoint.load(Path.of(teacher.substring(colon + 1)), model, null);
            return model;
        } catch (IOException | RuntimeException failure) {
            model.close();
            throw failure;
        }
    }

    /** The distillation loss for a teacher opened by {@link #openTeacher}. */
    DistillationLoss distillation(Model teacherModel) {
        return new DistillationLoss(teacherModel, temperature, alpha);
    }
}
