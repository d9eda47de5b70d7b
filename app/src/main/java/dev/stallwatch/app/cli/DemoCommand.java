package dev.stallwatch.app.cli;

import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.replay.ReplayRunner;
import dev.stallwatch.incidents.AlertJson;
import dev.stallwatch.incidents.AlertReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Replays the built-in example of the Go 1.14.1 timer livelock (golang/go#38023) through the embedded stack: "
            + "a wedged go1.14.1 service among healthy neighbours and two decoys (one drained but busy for real "
            + "reasons, one whose CPU falls after a slow-downstream spike). Prints the alert for the wedged container "
            + "and nothing for the others.",
        ""})
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--bundle-dir", paramLabel = "DIR",
      description = "Write the demo's replay bundle here and keep it (default: a temporary directory, deleted).")
  Path bundleDir;

  @Option(names = "--json", description = "Print JSON lines (as 'stallwatch replay' does) instead of the report.")
  boolean json;

  @Mixin
  DetectorSettings detector;

  @Override
  public Integer call() throws Exception {
    boolean temporary = bundleDir == null;
    Path dir = temporary ? Files.createTempDirectory("stallwatch-demo-") : bundleDir;
    PrintStream stdout = System.out;
    try {
      Progress.log("writing the demo bundle to " + dir);
      new DemoBundle().write(dir);
      ReplayRunner runner = new ReplayRunner(detector.options(), detector.rules(), Progress::log);
      ReplayRunner.Result result;
      System.setOut(System.err);
      try {
        result = runner.run(ReplayBundle.load(dir));
      } finally {
        System.setOut(stdout);
      }
      for (ReplayRunner.Incident incident : result.incidents()) {
        stdout.println(json ? AlertJson.line(incident.open(), incident.resolved())
            : AlertReport.render(incident.open(), incident.resolved()));
      }
      stdout.flush();
      Progress.log(result.incidents().size() + " deadlock alert(s) among " + new DemoBundle().containerCount()
          + " containers");
      return 0;
    } finally {
      if (temporary) {
        deleteRecursively(dir);
      }
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
