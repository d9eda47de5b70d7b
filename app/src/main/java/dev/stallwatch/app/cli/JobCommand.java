package dev.stallwatch.app.cli;

import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "job",
    mixinStandardHelpOptions = true,
    description = {
        "Runs the deadlock detection job in this process (a Flink MiniCluster) against a real Kafka cluster, until "
            + "interrupted. On a Flink cluster, submit the jobs jar with main class "
            + "dev.stallwatch.jobs.DeadlockDetectionJob instead.",
        ""})
public final class JobCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client properties (SASL, TLS, ...) passed to the job's sources and sinks.")
  Path kafkaConfig;

  @Option(names = "--list-options", description = "List the detector options with their defaults and exit.")
  boolean listOptions;

  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve the job's Flink metrics for Prometheus on http://HOST:PORT/metrics: a port, a range"
          + " such as 9250-9260 (the first free one), or 0 for any free port. Off by default.")
  String metricsPort;

  @Option(names = "--metrics-host", paramLabel = "HOST",
      description = "The address --metrics-port binds (default: ${DEFAULT-VALUE}); the metrics are not authenticated,"
          + " so give another only for a Prometheus on another host, behind a firewall.")
  String metricsHost = LocalFlink.LOOPBACK;

  @Mixin
  DetectorSettings detector;

  @Override
  public Integer call() throws Exception {
    if (listOptions) {
      System.out.print(DetectorOptions.describe());
      return 0;
    }
    if (bootstrapServers == null) {
      throw new UserError("--bootstrap-servers is required (or use 'stallwatch demo' for the embedded stack)");
    }
    DeadlockDetectionJob job = DeadlockDetectionJob.builder()
        .bootstrapServers(bootstrapServers)
        .topics(Topics.defaults())
        .options(detector.options())
        .rules(detector.rules())
        .kafkaProperties(kafkaProperties())
        .bounded(false)
        .build();
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
    RequiredTopics.check(bootstrapServers, kafkaProperties(), kafkaConfig, job.topics().jobTopics());
    LocalFlink.RunningJob running = LocalFlink.start(job, DeadlockDetectionJob.JOB_NAME, settings);
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
    Progress.log("running the detection job against " + bootstrapServers + "; Ctrl-C to stop");
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

  private Properties kafkaProperties() throws IOException {
    Properties props = new Properties();
    if (kafkaConfig != null) {
      if (!Files.isRegularFile(kafkaConfig)) {
        throw new UserError(kafkaConfig + ": no such file");
      }
      try (Reader reader = Files.newBufferedReader(kafkaConfig)) {
        props.load(reader);
      }
    }
    return props;
  }
}
