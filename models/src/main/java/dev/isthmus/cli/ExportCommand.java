package dev.isthmus.cli;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.onnx.OnnxExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code isthmus export MODEL --checkpoint FILE --onnx OUT.onnx}: the model with its weights as an ONNX file. */
@Command(name = "export", sortOptions = false,
        header = "write a checkpoint's model as an ONNX file for inference (ONNX Runtime, TensorRT, ...)",
        description = {"FILE is an Isthmus checkpoint or a PyTorch state_dict saved as safetensors. The ONNX file "
                + "(opset " + OnnxExport.OPSET + ") computes the model in eval mode: batch norm with its running "
                + "statistics, no dropout. Its input is '" + OnnxExport.INPUT + "' [batch, C, H, W], its output '"
                + OnnxExport.OUTPUT + "' (the logits), with the batch a named dimension so that any batch size runs. "
                + "Classes and channels come from the checkpoint's metadata when isthmus train wrote it, else the "
                + "model's own; --classes and --channels say otherwise. With --json the last line is "
                + "{model, onnx, bytes, opset, input, output}."})
final class ExportCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "MODEL", completionCandidates = ZooNames.class,
            description = "a zoo model: ${COMPLETION-CANDIDATES}")
    String modelName;

    @Option(names = "--checkpoint", paramLabel = "FILE", required = true, order = 1, description = "the weights to export")
    Path checkpoint;

    @Option(names = "--onnx", paramLabel = "OUT.onnx", required = true, order = 2, description = "the ONNX file to write")
    Path onnx;

    /** Null until given: the default comes from the checkpoint or the model. */
    Integer classes;

    @Option(names = "--classes", paramLabel = "N", order = 3,
            description = "output classes (default: the checkpoint's, else the model's own)")
    void classes(int value) {
        classes = Bounds.check(command, "--classes", value, 1, 1_000_000);
    }

    Integer channels;

    @Option(names = "--channels", paramLabel = "N", order = 4,
            description = "input channels (default: the checkpoint's, else the model's own)")
    void channels(int value) {
        channels = Bounds.check(command, "--channels", value, 1, 4096);
    }

    @Mixin
    StandardOptions standard;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Zoo.Entry entry = SummaryCommand.zooEntry(modelName);
        if (!Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " is not a file");
        }
        if (Files.isDirectory(onnx)) {
            throw new IllegalArgumentException("--onnx " + onnx + " is a folder; name the file to write");
        }
        Path folder = onnx.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new IllegalArgumentException("cannot write " + onnx + ": folder " + folder + " does not exist");
        }
        InputMetadata saved = InputMetadata.read(checkpoint);
        int classes = this.classes != null ? this.classes : saved != null ? saved.classes() : entry.classes();
        int channels = this.channels != null ? this.channels
                : saved != null && saved.transform() != null ? saved.transform().channels() : entry.channels();
        try (CpuDevice device = new CpuDevice(1); Model model = entry.create(channels, classes)) {
            model.build(device, 1, 0);
            try {
                Checkpoint.load(checkpoint, model, null);
            } catch (IllegalArgumentException mismatch) {
                throw new IllegalArgumentException(mismatch.getMessage() + " (built " + model.name() + " with " + channels
                        + " channels and " + classes + " classes; --channels and --classes change them)", mismatch);
            }
            OnnxExport.write(model, saved == null ? Map.of() : saved.toMetadata(), onnx);
            long bytes = Files.size(onnx);
            out.printf("%s from %s: wrote %s (%,d bytes, ONNX opset %d, input %s [batch, %d, %d, %d], output %s [batch, %d])%n",
                    model.name(), checkpoint, onnx, bytes, OnnxExport.OPSET, OnnxExport.INPUT, channels, entry.height(),
                    entry.width(), OnnxExport.OUTPUT, classes);
            if (standard.json) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("model", model.name());
                json.put("onnx", onnx.toString());
                json.put("bytes", bytes);
                json.put("opset", OnnxExport.OPSET);
                json.put("input", java.util.List.of(OnnxExport.BATCH, channels, entry.height(), entry.width()));
                json.put("output", java.util.List.of(OnnxExport.BATCH, classes));
                out.println(Json.write(json));
            }
        }
        return 0;
    }
}
