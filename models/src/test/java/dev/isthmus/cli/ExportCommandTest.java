package dev.isthmus.cli;

import dev.isthmus.io.SafeTensors;
import dev.isthmus.models.TorchvisionResNet18Fixture;
import dev.isthmus.onnx.OnnxExport;
import dev.isthmus.onnx.OnnxRuntimeRunner;
import dev.isthmus.onnx.proto.Onnx.ModelProto;
import dev.isthmus.onnx.proto.Onnx.StringStringEntryProto;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.isthmus.cli.CommandLineTest.Run;

import static dev.isthmus.cli.CommandLineTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code isthmus export}: a PyTorch state_dict and an Isthmus checkpoint to ONNX files ONNX Runtime runs. */
class ExportCommandTest {
    @TempDir
    Path folder;

    @Test
    void torchvisionsResNet18ExportedRunsInOnnxRuntimeWithPyTorchsLogits() throws Exception {
        Path stateDict = TorchvisionResNet18Fixture.widenedStateDict(folder);
        Path onnx = folder.resolve("resnet18.onnx");

        Run wrongClasses = run("export", "resnet18", "--checkpoint", stateDict.toString(), "--onnx", onnx.toString());
        assertEquals(1, wrongClasses.status(), wrongClasses.out());
        assertTrue(wrongClasses.err().contains("fc.weight") && wrongClasses.err().contains("--classes"), wrongClasses.err());
        assertFalse(Files.exists(onnx), "nothing written after a failure");

        Run export = run("export", "resnet18", "--checkpoint", stateDict.toString(), "--onnx", onnx.toString(),
                "--classes", "10", "--json");
        assertEquals(0, export.status(), export.err());
        Map<String, Object> json = export.json();
        assertEquals(List.of("batch", 3L, 224L, 224L), json.get("input"));
        assertEquals(List.of("batch", 10L), json.get("output"));
        assertEquals(Files.size(onnx), ((Number) json.get("bytes")).longValue());

        try (SafeTensors io = SafeTensors.open(TorchvisionResNet18Fixture.io())) {
            Shape shape = Shape.of(io.entry("input").shape());
            float[] logits = OnnxRuntimeRunner.run(onnx, shape, TorchvisionResNet18Fixture.input(io), new int[] {10});
            OnnxRuntimeRunner.assertClose(io.floats("logits"), logits, "resnet18 in ONNX Runtime against torchvision");
        }
    }

    @Test
    void anIsthmusCheckpointBringsItsClassesAndPreprocessingIntoTheFile() throws Exception {
        Path checkpoint = folder.resolve("mlp.safetensors");
        Run train = run("train", "mlp", "--data", "synthetic", "--synthetic-size", "256", "--epochs", "1", "--batch", "32",
                "--checkpoint", checkpoint.toString());
        assertEquals(0, train.status(), train.err());
        Path onnx = folder.resolve("mlp.onnx");
        Run export = run("export", "mlp", "--checkpoint", checkpoint.toString(), "--onnx", onnx.toString());
        assertEquals(0, export.status(), export.err());
        assertTrue(export.out().contains("wrote " + onnx), export.out());
        ModelProto proto;
        try (InputStream in = Files.newInputStream(onnx)) {
            proto = ModelProto.parseFrom(in);
        }
        Map<String, String> metadata = proto.getMetadataPropsList().stream()
                .collect(Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
        assertEquals("mlp", metadata.get("model"));
        assertEquals("10", metadata.get("num_classes"));
        assertTrue(metadata.containsKey("preprocessing"), metadata.toString());
        assertEquals(OnnxExport.OPSET, proto.getOpsetImport(0).getVersion());
    }

    @Test
    void helpAndBadUsage() throws Exception {
        Run help = run("export", "--help");
        assertEquals(0, help.status());
        for (String option : List.of("MODEL", "--checkpoint", "--onnx", "--classes", "--channels", "--json", "--help")) {
            assertTrue(help.out().contains(option), option + ":\n" + help.out());
        }
        assertTrue(run("--help").out().contains("  export "), "the overview lists export");
        Run missing = run("export", "lenet5", "--checkpoint", folder.resolve("x.safetensors").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("--onnx"), missing.err());
        Run noFile = run("export", "lenet5", "--checkpoint", folder.resolve("x.safetensors").toString(), "--onnx",
                folder.resolve("x.onnx").toString());
        assertEquals(1, noFile.status());
        assertEquals(1, noFile.err().lines().count(), noFile.err());
        assertTrue(noFile.err().contains("x.safetensors"), noFile.err());
        Path someFile = Files.writeString(folder.resolve("some.safetensors"), "not read: the folder is refused first");
        Run toFolder = run("export", "lenet5", "--checkpoint", someFile.toString(), "--onnx", folder.toString());
        assertEquals(1, toFolder.status());
        assertTrue(toFolder.err().contains("is a folder"), toFolder.err());
    }
}
