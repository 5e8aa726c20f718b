package dev.isthmus.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code isthmus plot DIR}: redraws the training curves of a {@code train --log-dir DIR} run. */
@Command(name = "plot", sortOptions = false,
        header = "redraw the training curves (loss and accuracy per epoch) of a train --log-dir directory",
        description = {"Reads DIR/metrics.jsonl and writes DIR/curves.png (XChart): loss and accuracy per epoch, "
                + "train and test. train --log-dir draws it at the end of a run; plot redraws it, e.g. while a run is going.",
                "With --json the last line is {chart, epochs}."})
final class PlotCommand implements Subcommand {
    @Parameters(paramLabel = "DIR", description = "the log directory given to train --log-dir")
    Path directory;

    @Mixin
    StandardOptions standard;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Path png = TrainingChart.draw(directory, directory.toAbsolutePath().normalize().getFileName().toString());
        out.println("wrote " + png);
        if (standard.json) {
            out.println(dev.isthmus.io.Json.write(java.util.Map.of("chart", png.toString(),
                    "epochs", TrainingChart.read(directory).size())));
        }
        return 0;
    }
}
