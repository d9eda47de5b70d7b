package dev.stallwatch.app.embedded;

import dev.stallwatch.jobs.DeadlockDetectionJob;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.executors.LocalExecutor;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.runtime.client.JobCancellationException;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ExceptionUtils;
import org.apache.flink.util.NetUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection job on a Flink MiniCluster inside this JVM: the real job graph, no cluster to run.
 *
 * <p>Bounded, to the end: {@link #runToCompletion}. Unbounded, in the background, with Flink's
 * Prometheus reporter on /metrics:
 *
 * <pre>{@code
 * try (LocalFlink.RunningJob running = LocalFlink.start(job, "stallwatch-deadlock-detection",
 *     LocalFlink.Settings.defaults().withMetricsPorts("0"))) {
 *   URI metrics = running.metricsUri();   // http://localhost:PORT/metrics, the port picked
 *   ...
 * }                                        // cancels the job, shuts the MiniCluster down
 * }</pre>
 */
public final class LocalFlink {
  private static final Logger LOG = LoggerFactory.getLogger(LocalFlink.class);

  /** Name of the reporter in the configuration: {@code metrics.reporter.prom.*}. */
  public static final String PROMETHEUS_REPORTER = "prom";
  private static final ConfigOption<String> REPORTER_PORT =
      ConfigOptions.key("port").stringType().noDefaultValue();
  /** How long {@link #start} waits for the reporter to serve the job's metrics. */
  private static final Duration REPORTER_TIMEOUT = Duration.ofSeconds(30);

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
   * {@link #configuration()} plus Flink's Prometheus reporter serving /metrics on {@code port}
   * (one port: {@link #start} picks it from the ports the caller allows).
   */
  public static Configuration configuration(int prometheusPort) {
    Configuration conf = configuration();
    Configuration reporter = MetricOptions.forReporter(conf, PROMETHEUS_REPORTER);
    reporter.set(MetricOptions.REPORTER_FACTORY_CLASS, PrometheusReporterFactory.class.getName());
    reporter.set(REPORTER_PORT, String.valueOf(prometheusPort));
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

  /**
   * Starts the job on a MiniCluster of its own and returns once it runs (its checkpoint interval is
   * the job's: {@code DeadlockDetectionJob.Builder#checkpointInterval}). With metrics ports set,
   * it returns only once the Prometheus reporter serves the job's metrics, and fails when it does
   * not. An unbounded job runs until {@link RunningJob#close()}; a bounded one may end first.
   */
  public static RunningJob start(DeadlockDetectionJob job, String name, Settings settings) throws Exception {
    return start(job, name, settings, new Configuration());
  }

  /**
   * {@link #start(DeadlockDetectionJob, String, Settings)} with {@code extra} applied over the
   * configuration, e.g. where checkpoints go, which one to restore and a restart strategy.
   */
  public static RunningJob start(DeadlockDetectionJob job, String name, Settings settings, Configuration extra)
      throws Exception {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(extra, "extra");
    Integer port = settings.metricsPorts() == null ? null : freePort(settings.metricsPorts());
    Configuration conf = port == null ? configuration() : configuration(port);
    conf.addAll(extra);
    // the environment's own local executor, keeping hold of the MiniCluster it starts so that
    // close() can wait for its shutdown (the executor's job client only starts one)
    conf.set(DeploymentOptions.TARGET, LocalExecutor.NAME);
    conf.set(DeploymentOptions.ATTACHED, true);
    AtomicReference<MiniCluster> cluster = new AtomicReference<>();
    StreamExecutionEnvironment env = new StreamExecutionEnvironment(
        new CapturingLocalExecutor(cluster), conf, LocalFlink.class.getClassLoader());
    env.setParallelism(settings.parallelism());
    job.addTo(env);
    JobClient client;
    try {
      client = env.executeAsync(name);
    } catch (Exception e) {
      closeQuietly(cluster.get());
      throw e;
    }
    RunningJob running = new RunningJob(client, cluster.get(), port);
    if (port != null) {
      try {
        running.awaitReporter();
      } catch (Exception e) {
        running.close();
        throw e;
      }
      LOG.info("Prometheus metrics of job {} on {}", client.getJobID(), running.metricsUri());
    }
    return running;
  }

  /**
   * The first port of {@code ports} ("9249", "9250-9260", "9249,9251"; "0" for any) that is free
   * now: what {@link #start} gives the reporter. One port, so that the caller learns which it is:
   * the reporter itself neither tells the port it bound nor fails the cluster when it binds none.
   *
   * @throws IllegalArgumentException when {@code ports} is not a port, range or list
   * @throws IllegalStateException when every port of it is taken
   */
  public static int freePort(String ports) {
    Iterator<Integer> candidates;
    try {
      candidates = NetUtils.getPortRangeFromString(ports);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("metrics ports: expected a port, a range such as 9250-9260 or a"
          + " list, got '" + ports + "'", e);
    }
    while (candidates.hasNext()) {
      int candidate = candidates.next();
      // bound like the reporter binds: every interface
      try (ServerSocket socket = new ServerSocket(candidate)) {
        return socket.getLocalPort();
      } catch (IOException taken) {
        LOG.debug("port {} is taken", candidate);
      }
    }
    throw new IllegalStateException("no free port for the Prometheus reporter in " + ports);
  }

  private static void closeQuietly(MiniCluster cluster) {
    if (cluster == null) {
      return;
    }
    try {
      cluster.close();
    } catch (Exception e) {
      LOG.warn("MiniCluster did not shut down cleanly", e);
    }
  }

  /** How {@link #start} runs the job. */
  public record Settings(int parallelism, String metricsPorts) {
    public Settings {
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
      }
      if (metricsPorts != null && metricsPorts.isBlank()) {
        throw new IllegalArgumentException("metricsPorts must not be blank: leave it null for no reporter");
      }
    }

    /** {@link LocalFlink#parallelism()}, no metrics reporter. */
    public static Settings defaults() {
      return new Settings(LocalFlink.parallelism(), null);
    }

    public Settings withParallelism(int parallelism) {
      return new Settings(parallelism, metricsPorts);
    }

    /**
     * Turns on the Prometheus reporter on the first free port of {@code ports}: one port
     * ("9249"), a range ("9250-9260"), a list ("9249,9251"), or "0" for any free port.
     */
    public Settings withMetricsPorts(String ports) {
      return new Settings(parallelism, Objects.requireNonNull(ports, "ports"));
    }
  }

  /** A job running on its own MiniCluster; {@link #close()} cancels it and shuts the cluster down. */
  public static final class RunningJob implements AutoCloseable {
    private final JobClient client;
    private final MiniCluster cluster;
    private final Integer metricsPort;
    private boolean closed;

    private RunningJob(JobClient client, MiniCluster cluster, Integer metricsPort) {
      this.client = client;
      this.cluster = cluster;
      this.metricsPort = metricsPort;
    }

    public JobID jobId() {
      return client.getJobID();
    }

    public JobClient client() {
      return client;
    }

    /** The port the Prometheus reporter serves on, when the settings turned it on. */
    public OptionalInt metricsPort() {
      return metricsPort == null ? OptionalInt.empty() : OptionalInt.of(metricsPort);
    }

    /** {@code http://localhost:PORT/metrics}. */
    public URI metricsUri() {
      if (metricsPort == null) {
        throw new IllegalStateException("no metrics reporter: start with Settings.withMetricsPorts(...)");
      }
      return URI.create("http://localhost:" + metricsPort + "/metrics");
    }

    /**
     * Blocks until the job ends: returns when it finished or was cancelled (by {@link #close()}
     * from another thread), throws when it failed.
     */
    public void awaitTermination() throws Exception {
      try {
        client.getJobExecutionResult().get();
      } catch (ExecutionException e) {
        if (ExceptionUtils.findThrowable(e, JobCancellationException.class).isEmpty()) {
          throw e;
        }
      }
    }

    /**
     * Cancels the job unless it already ended, waits for it to end, and shuts the MiniCluster
     * down (the reporter's port is free again). Throws when the job had failed on its own.
     */
    @Override
    public synchronized void close() throws Exception {
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (!client.getJobExecutionResult().isDone()) {
          try {
            client.cancel().get(1, TimeUnit.MINUTES);
          } catch (ExecutionException e) {
            // it ended meanwhile; its result says how
            LOG.debug("cancelling job {}: {}", jobId(), e.getMessage());
          }
        }
        awaitTermination();
      } finally {
        closeQuietly(cluster);
      }
    }

    /** Polls /metrics until it lists this job: the reporter bound the port and reports the job. */
    private void awaitReporter() throws Exception {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpRequest scrape = HttpRequest.newBuilder(metricsUri()).timeout(Duration.ofSeconds(5)).build();
      String jobLabel = "job_id=\"" + jobId() + "\"";
      long deadline = System.nanoTime() + REPORTER_TIMEOUT.toNanos();
      String last = "no answer";
      while (System.nanoTime() < deadline) {
        try {
          HttpResponse<String> response = http.send(scrape, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 200 && response.body().contains(jobLabel)) {
            return;
          }
          last = "HTTP " + response.statusCode() + " without " + jobLabel;
        } catch (IOException e) {
          last = e.toString();
        }
        if (client.getJobExecutionResult().isDone()) {
          break;
        }
        Thread.sleep(100);
      }
      throw new IllegalStateException("the Prometheus reporter does not serve job " + jobId() + " on "
          + metricsUri() + " (" + last + "): was the port taken after it was picked? See the log"
          + " of org.apache.flink.runtime.metrics");
    }
  }

  /** Flink's local executor, handing out the MiniCluster it starts for the job. */
  private static final class CapturingLocalExecutor implements PipelineExecutorServiceLoader, PipelineExecutorFactory {
    private final AtomicReference<MiniCluster> cluster;

    CapturingLocalExecutor(AtomicReference<MiniCluster> cluster) {
      this.cluster = cluster;
    }

    @Override
    public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
      return this;
    }

    @Override
    public Stream<String> getExecutorNames() {
      return Stream.of(LocalExecutor.NAME);
    }

    @Override
    public String getName() {
      return LocalExecutor.NAME;
    }

    @Override
    public boolean isCompatibleWith(Configuration configuration) {
      return true;
    }

    @Override
    public PipelineExecutor getExecutor(Configuration configuration) {
      return LocalExecutor.createWithFactory(configuration, miniClusterConfiguration -> {
        MiniCluster started = new MiniCluster(miniClusterConfiguration);
        cluster.set(started);
        return started;
      });
    }
  }
}
