package dev.stallwatch.app.cli;

import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.replay.ReplayRunner;
import dev.stallwatch.incidents.AlertJson;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
        "Replays a captured incident through the real pipeline (in-process Kafka, the collector's publishing path, "
            + "the detection job on a Flink MiniCluster) and prints one JSON line per deadlock alert on stdout.",
        "Logs and progress go to stderr. Exit 0 on success, 2 for a bundle it cannot read.",
        "",
        "Bundle layout:",
        "  DIR/perf/HOST/*.txt[.gz]  perf script output (perf record -k CLOCK_REALTIME -g) per host",
        "  DIR/containers.csv        pid,container_id,host,pod,namespace",
        "  DIR/upstream.csv          window_start_ms,window_end_ms,container_id,requests,timeouts",
        "  DIR/traffic.csv           optional: timestamp_ms,container_id,event (DRAINED|RESTORED)",
        "  DIR/cpu.csv               optional: window_start_ms,window_end_ms,container_id,cpu_seconds",
        "  DIR/meta.json             optional: {\"sample_frequency_hz\": 99}",
        ""})
public final class ReplayCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", description = "The replay bundle directory.")
  Path dir;

  @Mixin
  DetectorSettings detector;

  @Override
  public Integer call() throws Exception {
    ReplayRunner runner = new ReplayRunner(detector.options(), detector.rules(), Progress::log);
    ReplayBundle bundle = ReplayBundle.load(dir);
    PrintStream stdout = System.out;
    ReplayRunner.Result result;
    // stdout carries only alerts: whatever a library prints while the pipeline runs goes to stderr
    System.setOut(System.err);
    try {
      result = runner.run(bundle);
    } finally {
      System.setOut(stdout);
    }
    for (ReplayRunner.Incident incident : result.incidents()) {
      stdout.println(AlertJson.line(incident.open(), incident.resolved()));
    }
    stdout.flush();
    Progress.log(result.incidents().size() + " deadlock alert(s)");
    return 0;
  }
}
