package dev.stallwatch.app.cli;

import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.app.flink.FlinkRest;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.JobArguments;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "job",
    mixinStandardHelpOptions = true,
    subcommands = JobStopCommand.class,
    description = {
        "Runs the deadlock detection job: in this process (a Flink MiniCluster) until interrupted, or with"
            + " --flink-rest on a Flink cluster, where it submits the job jar (stallwatch-job-<version>.jar), prints"
            + " the job ID and web UI link and returns. The jar takes the same flags with 'flink run'.",
        ""})
public final class JobCommand implements Callable<Integer> {
  static final Duration RUNNING_TIMEOUT = Duration.ofMinutes(2);

  @Spec
  CommandSpec spec;

  @Mixin
  JobArguments job;

  @Option(names = "--list-options", description = "List the detector options with their defaults and exit.")
  boolean listOptions;

  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve the job's Flink metrics for Prometheus on http://HOST:PORT/metrics: a port, a range"
          + " such as 9250-9260 (the first free one), or 0 for any free port. Off by default (in-process only).")
  String metricsPort;

  @Option(names = "--metrics-host", paramLabel = "HOST",
      description = "The address --metrics-port binds (default: ${DEFAULT-VALUE}); the metrics are not authenticated,"
          + " so give another only for a Prometheus on another host, behind a firewall.")
  String metricsHost = LocalFlink.LOOPBACK;

  @Option(names = "--flink-rest", paramLabel = "URL",
      description = "Submit to the Flink cluster whose REST API (JobManager) is at URL, e.g. http://jm:8081.")
  URI flinkRest;

  @Option(names = "--job-jar", paramLabel = "FILE",
      description = "The job jar to submit; default: jobs/target/stallwatch-job-*.jar of this installation.")
  Path jobJar;

  @Option(names = "--parallelism", paramLabel = "N", description = "Parallelism on the cluster; default: the cluster's.")
  int parallelism;

  @Option(names = "--from-savepoint", paramLabel = "PATH",
      description = "Start from this savepoint or retained checkpoint (see 'stallwatch job stop').")
  String fromSavepoint;

  @Option(names = "--allow-non-restored-state",
      description = "With --from-savepoint: start even if some of its state belongs to no operator of this job.")
  boolean allowNonRestoredState;

  @Override
  public Integer call() throws Exception {
    if (listOptions) {
      System.out.print(DetectorOptions.describe());
      return 0;
    }
    if (job.bootstrapServers() == null) {
      throw new UserError("--bootstrap-servers is required (or use 'stallwatch demo' for the embedded stack)");
    }
    if (flinkRest != null) {
      return submit();
    }
    if (fromSavepoint != null) {
      throw new UserError("--from-savepoint needs --flink-rest (the in-process job keeps no savepoints)");
    }
    DeadlockDetectionJob built;
    try {
      built = job.builder().build();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    LocalFlink.Settings settings = LocalFlink.Settings.defaults().withMetricsHost(metricsHost);
    if (metricsPort != null) {
      try {
        // a malformed or fully taken range, or an address not of this host, is a usage error before Flink starts
        LocalFlink.freePort(metricsHost, metricsPort);
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new UserError("--metrics-port " + metricsPort + ": " + e.getMessage(), e);
      }
      settings = settings.withMetricsPorts(metricsPort);
    }
    RequiredTopics.check(job.bootstrapServers(), job.kafkaProperties(), job.kafkaConfig(), built.topics().jobTopics());
    LocalFlink.RunningJob running = LocalFlink.start(built, DeadlockDetectionJob.JOB_NAME, settings);
    // Ctrl-C cancels the job, so that its Kafka transactions are aborted now, not at their timeout
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (running.client().getJobExecutionResult().isDone()) {
        return; // it failed on its own: call() reports that
      }
      try {
        running.close();
      } catch (Exception e) {
        Progress.log("the job did not stop cleanly: " + e.getMessage());
      }
    }, "stallwatch-job-stop"));
    if (running.metricsPort().isPresent()) {
      Progress.log("Flink metrics for Prometheus on " + running.metricsUri());
    }
    Progress.log("Flink REST API (read-only) on " + running.restAddress());
    Progress.log("running the detection job against " + job.bootstrapServers() + "; Ctrl-C to stop");
    return awaitEnd(running);
  }

  /**
   * Waits for the job: 0 when Ctrl-C stopped it, 1 with one line on stderr when it ended on its
   * own (cancelled, failed), since a process whose job is gone must not look like it still detects.
   */
  static int awaitEnd(LocalFlink.RunningJob running) throws InterruptedException, ExecutionException {
    Optional<String> ended = running.ended().get();
    if (ended.isEmpty()) {
      return 0;
    }
    System.err.println("stallwatch job: " + ended.get());
    return 1;
  }

  /** Uploads the job jar, runs it and waits until it runs; stdout: the job ID and the web UI link. */
  private int submit() throws IOException, InterruptedException {
    if (metricsPort != null) {
      throw new UserError("--metrics-port is for the in-process job; on a cluster, configure Flink's reporters");
    }
    List<String> args;
    try {
      args = job.programArguments();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    Path jar = jobJar != null ? jobJar : defaultJobJar();
    if (!Files.isRegularFile(jar)) {
      throw new UserError("--job-jar " + jar + ": no such file");
    }
    FlinkRest flink = new FlinkRest(flinkRest);
    String jobId;
    try {
      Progress.log("uploading " + jar.getFileName() + " to " + flinkRest);
      String jarId = flink.uploadJar(jar);
      jobId = flink.runJar(jarId, DeadlockDetectionJob.class.getName(), args, parallelism, fromSavepoint,
          allowNonRestoredState);
    } catch (java.net.ConnectException e) {
      throw new UserError("--flink-rest " + flinkRest + ": cannot connect (" + e.getMessage() + ")", e);
    }
    spec.commandLine().getOut().println("job-id  " + jobId);
    spec.commandLine().getOut().println("web-ui  " + flink.webUi(jobId));
    Instant deadline = Instant.now().plus(RUNNING_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      String state = flink.jobState(jobId);
      if ("RUNNING".equals(state)) {
        Progress.log("job " + jobId + " is RUNNING on " + flinkRest);
        return 0;
      }
      if (FlinkRest.GLOBALLY_TERMINAL.contains(state)) {
        Progress.log("job " + jobId + " is " + state + ": " + flink.rootCause(jobId));
        return 1;
      }
      Thread.sleep(250); // the job is being scheduled on the cluster
    }
    Progress.log("job " + jobId + " was submitted but is not RUNNING after " + RUNNING_TIMEOUT.toSeconds()
        + " s; see " + flink.webUi(jobId));
    return 1;
  }

  /** The job jar this installation built (bin/stallwatch sets stallwatch.home). */
  static Path defaultJobJar() throws IOException {
    Path home = Path.of(System.getProperty("stallwatch.home", "."));
    Path target = home.resolve("jobs").resolve("target");
    if (Files.isDirectory(target)) {
      try (Stream<Path> files = Files.list(target)) {
        List<Path> jars = files.filter(p -> p.getFileName().toString().matches("stallwatch-job-.+\\.jar")).toList();
        if (jars.size() == 1) {
          return jars.get(0);
        }
      }
    }
    throw new UserError("no job jar in " + target + ": build it with './mvnw -B -pl jobs -am package -DskipTests'"
        + " or give --job-jar FILE");
  }
}
