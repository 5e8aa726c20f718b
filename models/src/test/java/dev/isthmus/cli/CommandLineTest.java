package dev.isthmus.cli;

import dev.isthmus.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: exit statuses, one-line errors, and --json as the last line. */
class CommandLineTest {
    @TempDir
    Path folder;

    record Run(int status, String out, String err) {
        Map<String, Object> json() {
            List<String> lines = out.lines().toList();
            return Json.parseObject(lines.getLast());
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoReportsEveryLibraryAndNeverFails() {
        Run info = run("info", "--json");
        assertEquals(0, info.status(), info.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> libraries = (Map<String, Object>) info.json().get("libraries");
        assertEquals(List.of("OpenBLAS", "oneDNN", "CUDA driver", "cuBLAS", "cuDNN", "Open MPI", "NCCL"),
                List.copyOf(libraries.keySet()));
        @SuppressWarnings("unchecked")
        Map<String, Object> openBlas = (Map<String, Object>) libraries.get("OpenBLAS");
        assertEquals(Boolean.TRUE, openBlas.get("available"));
        for (String gpu : List.of("CUDA driver", "cuBLAS", "cuDNN", "Open MPI", "NCCL")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> library = (Map<String, Object>) libraries.get(gpu);
            // Either it works (a GPU machine) or it says why not.
            assertTrue(Boolean.TRUE.equals(library.get("available")) || library.get("reason") != null, gpu + ": " + library);
        }
    }

    @Test
    void summaryCountsLeNet5sParameters() {
        Run summary = run("summary", "lenet5", "--json");
        assertEquals(0, summary.status(), summary.err());
        assertEquals(61706L, summary.json().get("params"));
        assertTrue(summary.out().contains("fc3"));
    }

    @Test
    void badUsageExitsWithTwoAndOneLine() {
        for (String[] args : List.of(new String[] {"nonsense"}, new String[] {"summary"}, new String[] {"summary", "no-such-model"},
                new String[] {"train", "lenet5", "--epochs", "zero"}, new String[] {"train", "lenet5", "--bogus", "1"},
                new String[] {"bench", "--modes", "fly"}, new String[] {"train", "vgg-small", "--data", "fashion-mnist"},
                new String[] {"train", "lenet5", "--schedule", "step:x"})) {
            Run run = run(args);
            assertEquals(2, run.status(), String.join(" ", args) + " -> " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
        }
    }

    @Test
    void everyCommandsHelpListsItsOptions() {
        Map<String, List<String>> options = Map.of(
                "info", List.of("--json", "--help"),
                "summary", List.of("MODEL", "--classes", "--channels", "--batch", "--json", "--help"),
                "train", List.of("MODEL", "--data", "--data-dir", "--limit", "--test-limit", "--synthetic-size", "--normalize",
                        "--split", "--resize", "--center-crop", "--strict", "--augment", "--epochs", "--batch", "--lr", "--optimizer", "--momentum", "--weight-decay", "--schedule",
                        "--clip-norm", "--patience", "--label-smoothing", "--seed", "--device", "--threads", "--checkpoint",
                        "--resume", "--log-dir", "--json", "--help"),
                "eval", List.of("MODEL", "--checkpoint", "--data", "--data-dir", "--limit", "--test-limit", "--synthetic-size",
                        "--normalize", "--split", "--resize", "--center-crop", "--strict", "--batch", "--seed", "--device", "--threads", "--json", "--help"),
                "predict", List.of("MODEL", "IMAGE|DIR", "--checkpoint", "--top", "--batch", "--strict", "--device", "--threads",
                        "--json", "--help"),
                "bench", List.of("MODEL", "--modes", "--batch-train", "--batch-infer", "--seconds", "--repeats", "--layers",
                        "--steps", "--seed", "--device", "--threads", "--json", "--help"));
        for (var command : options.entrySet()) {
            for (String help : List.of("--help", "-h")) {
                Run run = run(command.getKey(), help);
                assertEquals(0, run.status(), command.getKey() + " " + help + ": " + run.err());
                assertTrue(run.out().contains("Usage: isthmus " + command.getKey()), run.out());
                for (String option : command.getValue()) {
                    assertTrue(run.out().contains(option), command.getKey() + " --help lacks " + option + ":\n" + run.out());
                }
                assertFalse(run.out().contains("%n"), "an unformatted help text:\n" + run.out());
            }
            assertEquals(run(command.getKey(), "--help").out(), run("help", command.getKey()).out());
        }
        Run summary = run("summary", "--help");
        assertTrue(summary.out().contains("resnet20") && summary.out().contains("CIFAR ResNet-20"), summary.out());
    }

    @Test
    void theOverviewListsTheCommands() {
        Run help = run("--help");
        assertEquals(0, help.status(), help.err());
        for (String command : List.of("info", "summary", "train", "eval", "predict", "data", "bench")) {
            assertTrue(help.out().contains("  " + command + " "), help.out());
        }
        Run bare = run();
        assertEquals(2, bare.status());
        assertEquals(help.out(), bare.out());
    }

    @Test
    void dataHasAnInspectCommand() {
        Run help = run("data", "inspect", "--help");
        assertEquals(0, help.status(), help.err());
        assertTrue(help.out().contains("Usage: isthmus data inspect"), help.out());
        for (String option : List.of("DIR", "--split", "--json", "--help")) {
            assertTrue(help.out().contains(option), "data inspect --help lacks " + option + ":\n" + help.out());
        }
        assertFalse(help.out().contains("%n"), help.out());
        Run bare = run("data");
        assertEquals(2, bare.status());
        assertTrue(bare.out().contains("inspect"), bare.out());
        assertEquals(bare.out(), run("data", "--help").out());
        Run missing = run("data", "inspect", folder.resolve("nowhere").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nowhere"), missing.err());
    }

    @Test
    void aMistypedNameSuggestsTheRightOne() {
        Run option = run("train", "lenet5", "--epohcs", "3");
        assertEquals(2, option.status(), option.err());
        assertEquals(1, option.err().lines().count(), option.err());
        assertTrue(option.err().contains("unknown option --epohcs") && option.err().contains("did you mean --epochs?"),
                option.err());
        Run command = run("trian", "lenet5");
        assertEquals(2, command.status(), command.err());
        assertEquals(1, command.err().lines().count(), command.err());
        assertTrue(command.err().contains("unknown command 'trian'") && command.err().contains("did you mean train?"),
                command.err());
    }

    @Test
    void aBadValueExitsWithTwoNamingTheOption() {
        for (String[] args : List.of(new String[] {"train", "lenet5", "--epochs", "zero"}, new String[] {"train", "lenet5", "--epochs", "0"},
                new String[] {"train", "lenet5", "--lr", "-1"}, new String[] {"train", "lenet5", "--momentum", "NaN"},
                new String[] {"train", "lenet5", "--optimizer", "sgdd"}, new String[] {"train", "lenet5", "--batch=0"},
                new String[] {"eval", "mlp", "--limit", "-1", "--checkpoint", "x"}, new String[] {"bench", "--threads", "2000"},
                new String[] {"bench", "--seconds", "0"}, new String[] {"summary", "lenet5", "--channels", "many"})) {
            Run run = run(args);
            String option = java.util.Arrays.stream(args).filter(a -> a.startsWith("--")).findFirst().orElseThrow().split("=")[0];
            assertEquals(2, run.status(), String.join(" ", args) + " -> " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().startsWith("isthmus " + args[0] + ": ") && run.err().contains(option),
                    String.join(" ", args) + " -> " + run.err());
        }
    }

    @Test
    void optionsTakeEqualsSignsAndTheLastRepeatWins() {
        Run summary = run("summary", "lenet5", "--batch=3", "--classes", "7", "--batch", "4", "--json");
        assertEquals(0, summary.status(), summary.err());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> layers = (List<Map<String, Object>>) summary.json().get("layers");
        assertEquals(List.of(4L, 7L), layers.getLast().get("output"));
    }

    @Test
    void trainEvalAndResumeOnSyntheticData() {
        Path checkpoint = folder.resolve("mlp.safetensors");
        Run train = run("train", "mlp", "--data", "synthetic", "--synthetic-size", "1024", "--epochs", "2", "--batch", "32", "--lr", "0.05",
                "--checkpoint", checkpoint.toString(), "--json");
        assertEquals(0, train.status(), train.err());
        Map<String, Object> result = train.json();
        assertEquals("mlp", result.get("model"));
        assertEquals(2L, result.get("epochs"));
        assertTrue(((Number) result.get("test_accuracy")).doubleValue() > 0.5, result.toString());
        for (String key : List.of("train_loss", "images_per_s", "seconds", "device")) {
            assertTrue(result.containsKey(key), key);
        }
        assertTrue(Files.isRegularFile(checkpoint));

        Run eval = run("eval", "mlp", "--data", "synthetic", "--synthetic-size", "1024", "--checkpoint", checkpoint.toString(), "--json");
        assertEquals(0, eval.status(), eval.err());
        assertEquals(((Number) result.get("test_accuracy")).doubleValue(), ((Number) eval.json().get("test_accuracy")).doubleValue(), 1e-9);

        Run resumed = run("train", "mlp", "--data", "synthetic", "--synthetic-size", "1024", "--epochs", "3", "--batch", "32", "--lr", "0.05",
                "--resume", checkpoint.toString(), "--json");
        assertEquals(0, resumed.status(), resumed.err());
        assertTrue(resumed.out().contains("resumed after epoch 2"), resumed.out());
        assertEquals(3L, resumed.json().get("epochs"));
    }

    @Test
    void failuresExitWithOneAndAReason() {
        Run missing = run("train", "lenet5", "--data-dir", folder.resolve("nowhere").toString(), "--epochs", "1");
        assertEquals(1, missing.status());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains("dataset-fashion-mnist") || missing.err().contains("nowhere"), missing.err());
        Run badCheckpoint = run("eval", "mlp", "--data", "synthetic", "--checkpoint", folder.resolve("none.safetensors").toString());
        assertEquals(1, badCheckpoint.status());
    }
}
