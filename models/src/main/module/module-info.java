/**
 * The Isthmus model zoo ({@link dev.isthmus.models.Zoo}: LeNet-5, VGG, ResNet, MLP) and the
 * {@code isthmus} command line, which runs as
 * {@code java --enable-native-access=dev.isthmus.bindings,dev.isthmus.core -p LIBS -m dev.isthmus.models/dev.isthmus.cli.Main}.
 */
module dev.isthmus.models {
    requires transitive dev.isthmus.core;
    requires info.picocli;
    // train --log-dir and isthmus plot draw their charts with XChart.
    requires org.knowm.xchart;
    // ONNX export: exporters build protobuf messages (dev.isthmus.onnx.proto, generated from onnx.proto).
    requires transitive com.google.protobuf;
    // isthmus bench reads the JIT and per-thread allocation monitors.
    requires java.management;
    requires jdk.management;

    exports dev.isthmus.models;
    exports dev.isthmus.onnx;
    exports dev.isthmus.onnx.proto;

    // picocli fills the command classes' annotated fields reflectively.
    opens dev.isthmus.cli to info.picocli;
}
