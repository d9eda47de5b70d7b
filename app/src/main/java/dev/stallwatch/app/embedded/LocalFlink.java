package dev.stallwatch.app.embedded;

import dev.stallwatch.jobs.DeadlockDetectionJob;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The detection job on a Flink MiniCluster inside this JVM: the real job graph, no cluster to run. */
public final class LocalFlink {
  private LocalFlink() {}

  /** Parallelism of the embedded MiniCluster: one slot per core, at least 1, at most 4. */
  public static int parallelism() {
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  public static Configuration configuration() {
    Configuration conf = new Configuration();
    // a failed replay should fail at once, not retry for minutes
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    return conf;
  }

  /**
   * Runs a bounded job until its sources end and its last checkpoint has committed. The job picks
   * its own checkpoint interval: the exactly-once alert sink commits on checkpoints.
   */
  public static JobExecutionResult runToCompletion(DeadlockDetectionJob job, String name) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism(), configuration());
    job.addTo(env);
    return env.execute(name);
  }
}
