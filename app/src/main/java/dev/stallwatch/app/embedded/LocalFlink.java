package dev.stallwatch.app.embedded;

import dev.stallwatch.jobs.DeadlockDetectionJob;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
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
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
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
 *   URI metrics = running.metricsUri();   // http://127.0.0.1:PORT/metrics, the port picked
 *   ...
 * }                                        // cancels the job, shuts the MiniCluster down
 * }</pre>
 */
public final class LocalFlink {
  private static final Logger LOG = LoggerFactory.getLogger(LocalFlink.class);

  /** Name of the reporter in the configuration: {@code metrics.reporter.prom.*}. */
  public static final String PROMETHEUS_REPORTER = "prom";
  private static final ConfigOption<String> REPORTER_PORT =
      ConfigOptions.key(LoopbackPrometheusReporterFactory.ARG_PORT).stringType().noDefaultValue();
  private static final ConfigOption<String> REPORTER_HOST =
      ConfigOptions.key(LoopbackPrometheusReporterFactory.ARG_HOST).stringType().noDefaultValue();
  /** Where everything of the embedded cluster listens unless told otherwise. */
  public static final String LOOPBACK = "127.0.0.1";
  /** How long {@link #start} waits for the reporter to serve the job's metrics. */
  private static final Duration REPORTER_TIMEOUT = Duration.ofSeconds(30);

  private LocalFlink() {}

  /** Parallelism of the embedded MiniCluster: one slot per core, at least 1, at most 4. */
  public static int parallelism() {
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * What every embedded MiniCluster runs with: nothing listens beyond loopback (REST, blob server,
   * RPC and data ports), the REST API cannot submit, cancel or rescale (it is unauthenticated; the
   * cluster itself only keeps its GET handlers, see {@link LockedDownMiniCluster}), and a failure
   * fails the job at once rather than retrying for minutes.
   */
  public static Configuration configuration() {
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    conf.set(RestOptions.BIND_ADDRESS, LOOPBACK);
    conf.set(RestOptions.ADDRESS, LOOPBACK);
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(WebOptions.SUBMIT_ENABLE, false);
    conf.set(WebOptions.CANCEL_ENABLE, false);
    conf.set(WebOptions.RESCALE_ENABLE, false);
    // the blob server binds jobmanager.bind-host
    conf.set(JobManagerOptions.BIND_HOST, LOOPBACK);
    conf.set(JobManagerOptions.ADDRESS, LOOPBACK);
    conf.set(TaskManagerOptions.BIND_HOST, LOOPBACK);
    conf.set(TaskManagerOptions.HOST, LOOPBACK);
    return conf;
  }

  /**
   * {@link #configuration()} plus Flink's Prometheus series on /metrics at {@code host:port}
   * (one port: {@link #start} picks it from the ports the caller allows).
   */
  public static Configuration configuration(String host, int prometheusPort) {
    Configuration conf = configuration();
    Configuration reporter = MetricOptions.forReporter(conf, PROMETHEUS_REPORTER);
    reporter.set(MetricOptions.REPORTER_FACTORY_CLASS, LoopbackPrometheusReporterFactory.class.getName());
    reporter.set(REPORTER_HOST, host);
    reporter.set(REPORTER_PORT, String.valueOf(prometheusPort));
    return conf;
  }

  /**
   * Runs a bounded job until its sources end and its last checkpoint has committed. The job picks
   * its own checkpoint interval: the exactly-once alert sink commits on checkpoints.
   */
  public static JobExecutionResult runToCompletion(DeadlockDetectionJob job, String name) throws Exception {
    AtomicReference<MiniCluster> cluster = new AtomicReference<>();
    StreamExecutionEnvironment env = environment(configuration(), cluster);
    env.setParallelism(parallelism());
    job.addTo(env);
    try {
      return env.execute(name);
    } finally {
      closeQuietly(cluster.get());
    }
  }

  /**
   * The environment's own local executor on a {@link LockedDownMiniCluster}, keeping hold of the
   * cluster it starts so that the caller can wait for its shutdown (the job client only starts one).
   */
  private static StreamExecutionEnvironment environment(Configuration conf, AtomicReference<MiniCluster> cluster) {
    conf.set(DeploymentOptions.TARGET, LocalExecutor.NAME);
    conf.set(DeploymentOptions.ATTACHED, true);
    return new StreamExecutionEnvironment(new CapturingLocalExecutor(cluster), conf, LocalFlink.class.getClassLoader());
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
    Integer port = settings.metricsPorts() == null ? null : freePort(settings.metricsHost(), settings.metricsPorts());
    Configuration conf = port == null ? configuration() : configuration(settings.metricsHost(), port);
    conf.addAll(extra);
    AtomicReference<MiniCluster> cluster = new AtomicReference<>();
    StreamExecutionEnvironment env = environment(conf, cluster);
    env.setParallelism(settings.parallelism());
    job.addTo(env);
    JobClient client;
    try {
      client = env.executeAsync(name);
    } catch (Exception e) {
      closeQuietly(cluster.get());
      throw e;
    }
    RunningJob running = new RunningJob(client, cluster.get(), settings.metricsHost(), port);
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
  public static int freePort(String host, String ports) {
    Iterator<Integer> candidates;
    try {
      candidates = NetUtils.getPortRangeFromString(ports);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("metrics ports: expected a port, a range such as 9250-9260 or a"
          + " list, got '" + ports + "'", e);
    }
    while (candidates.hasNext()) {
      int candidate = candidates.next();
      // bound like the reporter binds
      try (ServerSocket socket = new ServerSocket(candidate, 1, InetAddress.getByName(host))) {
        return socket.getLocalPort();
      } catch (IOException taken) {
        LOG.debug("port {} is taken", candidate);
      }
    }
    throw new IllegalStateException("no free port for the Prometheus reporter in " + ports + " on " + host);
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
  public record Settings(int parallelism, String metricsHost, String metricsPorts) {
    public Settings {
      Objects.requireNonNull(metricsHost, "metricsHost");
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
      }
      if (metricsPorts != null && metricsPorts.isBlank()) {
        throw new IllegalArgumentException("metricsPorts must not be blank: leave it null for no reporter");
      }
    }

    /** {@link LocalFlink#parallelism()}, no metrics reporter. */
    public static Settings defaults() {
      return new Settings(LocalFlink.parallelism(), LOOPBACK, null);
    }

    public Settings withParallelism(int parallelism) {
      return new Settings(parallelism, metricsHost, metricsPorts);
    }

    /**
     * Turns on the Prometheus reporter on the first free port of {@code ports}: one port
     * ("9249"), a range ("9250-9260"), a list ("9249,9251"), or "0" for any free port.
     */
    public Settings withMetricsPorts(String ports) {
      return new Settings(parallelism, metricsHost, Objects.requireNonNull(ports, "ports"));
    }

    /** The address the Prometheus reporter binds (default 127.0.0.1): another one only for a scraper elsewhere. */
    public Settings withMetricsHost(String host) {
      return new Settings(parallelism, host, metricsPorts);
    }
  }

  /** A job running on its own MiniCluster; {@link #close()} cancels it and shuts the cluster down. */
  public static final class RunningJob implements AutoCloseable {
    private final JobClient client;
    private final MiniCluster cluster;
    private final String metricsHost;
    private final Integer metricsPort;
    private final CompletableFuture<Optional<String>> ended = new CompletableFuture<>();
    private volatile boolean closing;
    private boolean closed;

    private RunningJob(JobClient client, MiniCluster cluster, String metricsHost, Integer metricsPort) {
      this.client = client;
      this.cluster = cluster;
      this.metricsHost = metricsHost;
      this.metricsPort = metricsPort;
      client.getJobExecutionResult().whenComplete((result, failure) -> {
        if (closing) {
          ended.complete(Optional.empty());
        } else {
          String how = failure == null ? "finished"
              : ExceptionUtils.findThrowable(failure, JobCancellationException.class).isPresent() ? "was cancelled"
              : "failed: " + ExceptionUtils.stripExecutionException(rootCause(failure));
          ended.complete(Optional.of("the detection job " + client.getJobID() + " " + how));
        }
      });
    }

    private static Throwable rootCause(Throwable failure) {
      Throwable cause = failure;
      while (cause.getCause() != null && cause.getCause() != cause) {
        cause = cause.getCause();
      }
      return cause;
    }

    /**
     * Completes when the job ends: with one line saying how when it ended on its own (cancelled,
     * failed, or a bounded job finished), empty when {@link #close()} stopped it. A process that
     * runs the job for others must not go on looking healthy once this holds a line.
     */
    public CompletableFuture<Optional<String>> ended() {
      return ended;
    }

    /** The line of {@link #ended()} once the job ended on its own; empty while it runs or after {@link #close()}. */
    public Optional<String> endedOnItsOwn() {
      return ended.isDone() ? ended.join() : Optional.empty();
    }

    /** Where the cluster's (read-only) REST API listens. */
    public URI restAddress() throws Exception {
      return cluster.getRestAddress().get(1, TimeUnit.MINUTES);
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

    /** {@code http://HOST:PORT/metrics}, the host the reporter binds (127.0.0.1 unless set). */
    public URI metricsUri() {
      if (metricsPort == null) {
        throw new IllegalStateException("no metrics reporter: start with Settings.withMetricsPorts(...)");
      }
      String host = metricsHost.contains(":") ? "[" + metricsHost + "]" : metricsHost;
      return URI.create("http://" + host + ":" + metricsPort + "/metrics");
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
      closing = true;
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
        MiniCluster started = new LockedDownMiniCluster(miniClusterConfiguration);
        cluster.set(started);
        return started;
      });
    }
  }
}
