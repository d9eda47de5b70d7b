package dev.stallwatch.app.cli;

import dev.stallwatch.app.flink.FlinkRest;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Parameters;

@Command(
    name = "stop",
    mixinStandardHelpOptions = true,
    description = {
        "Stops the job on a Flink cluster with a savepoint and prints its path, for an upgrade: start the new job"
            + " with 'stallwatch job --flink-rest URL --from-savepoint PATH ...'. Open episodes continue there and"
            + " nothing is alerted twice.",
        ""})
public final class JobStopCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "JOB_ID", description = "The job's ID (printed by the submit, or in the web UI).")
  String jobId;

  @Option(names = "--flink-rest", paramLabel = "URL", required = true,
      description = "The Flink cluster's REST API, e.g. http://jm:8081.")
  URI flinkRest;

  @Option(names = "--savepoint-dir", paramLabel = "URI",
      description = "Where the savepoint goes (file:///..., s3://...); default: the cluster's savepoint directory.")
  String savepointDir;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "How long to wait for the savepoint (default ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (!jobId.matches("[0-9a-fA-F]{32}")) {
      throw new UserError("JOB_ID: expected 32 hex digits, got '" + jobId + "'");
    }
    FlinkRest flink = new FlinkRest(flinkRest);
    String path;
    try {
      path = flink.stopWithSavepoint(jobId, savepointDir, Duration.ofSeconds(timeoutSeconds));
    } catch (java.net.ConnectException e) {
      throw new UserError("--flink-rest " + flinkRest + ": cannot connect (" + e.getMessage() + ")", e);
    }
    spec.commandLine().getOut().println("savepoint  " + path);
    return 0;
  }
}
