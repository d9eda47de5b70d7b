package dev.stallwatch.app.cli;

import dev.stallwatch.app.up.ContainerDigest;
import dev.stallwatch.app.up.UpStack;
import dev.stallwatch.ingest.collector.CollectorHttpServer;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Runs Stallwatch on this machine: the embedded Kafka broker with the topics, the detection job on a Flink "
            + "MiniCluster, the incident store with its pages, API, /metrics and pagers, and the collector on this host "
            + "with real perf. Everything keeps its data under --data-dir, and the job restores its newest checkpoint "
            + "on start, so a restart resumes where the last run stopped and never pages twice. Everything listens on "
            + "loopback. Prints the URLs, then one line per 10 s window with the containers seen, until SIGINT or "
            + "SIGTERM.",
        "Options after -- go to the collector, as for 'stallwatch collect' (e.g. -- --haproxy-socket "
            + "/run/haproxy/admin.sock --upstream-map upstreams.csv); --bootstrap-servers is this broker's.",
        ""})
public final class UpCommand implements Callable<Integer> {
  static final String API_TOKEN_FILE = "api-token";
  static final String SPOOL_DIR = "spool";
  /** What a stop may take: the collector publishes its last windows, the job is cancelled, the store closes. */
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(90);

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Where the broker's log, the job's checkpoints, the store (DIR/postgres), the collector's spool "
          + "and the generated API token live (default: ~/.stallwatch/up).")
  Path dataDir;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
      description = "The incident pages, API and /metrics (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "File holding the API's bearer token (default: the " + ServeCommand.API_TOKEN_ENV
          + " environment variable, else DATA_DIR/" + API_TOKEN_FILE + ", made on the first start, mode 0600).")
  Path apiTokenFile;

  @Option(names = "--collector-listen", paramLabel = "HOST:PORT",
      description = "The collector's /metrics and push endpoints (default: " + CollectorHttpServer.DEFAULT_ADDRESS
          + "; off for none).")
  String collectorListen;

  @Option(names = "--no-collect", description = "Run only the central part: no collector on this host.")
  boolean noCollect;

  @Option(names = "--checkpoint-interval", paramLabel = "DURATION", converter = CollectCommand.DurationConverter.class,
      description = "How often the job checkpoints into DATA_DIR/checkpoints; alerts are published at checkpoints "
          + "(default: 10s).")
  Duration checkpointInterval = DeadlockDetectionJob.DEFAULT_CHECKPOINT_INTERVAL;

  @Mixin
  DetectorSettings detector;

  @Mixin
  NotifierSettings pages;

  @Parameters(paramLabel = "COLLECT_OPTION", arity = "0..*",
      description = "After --: options for the collector, as 'stallwatch collect' takes them.")
  List<String> collectOptions = new ArrayList<>();

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final AtomicReference<String> stopReason = new AtomicReference<>();

  @Override
  public Integer call() throws Exception {
    // every option is checked before anything starts
    Path dir = DataDirectory.checked(dataDir, DatabaseOptions.defaultDataDir().resolve("up"));
    InetSocketAddress address = ListenAddress.parse("--listen", listen);
    DetectorOptions options = detector.options();
    List<Notifier> notifiers = pages.notifiers();
    CollectCommand collect = noCollect ? null : collectCommand(dir);
    if (noCollect && (!collectOptions.isEmpty() || collectorListen != null)) {
      throw new UserError("--no-collect runs no collector: collector options and --collector-listen do not apply");
    }
    if (checkpointInterval.isZero() || checkpointInterval.isNegative()) {
      throw new UserError("--checkpoint-interval must be positive, got " + checkpointInterval);
    }
    Files.createDirectories(dir);
    TokenSource token = apiToken(dir);

    PrintStream stdout = System.out;
    System.setOut(System.err); // Flink and Kafka print; stdout carries only the container lines
    UpStack stack;
    try {
      IncidentDatabase database = IncidentDatabase.open(
          DatabaseOptions.embedded(dir).withAccess(DatabaseOptions.Access.READ_WRITE));
      try {
        stack = UpStack.start(new UpStack.Settings(dir, options, detector.rules(), checkpointInterval, address,
            token.token(), notifiers), database, Progress::log);
      } catch (UncheckedIOException e) {
        throw new UserError("cannot start (" + e.getCause().getMessage() + "); is another 'stallwatch up' running,"
            + " or --listen taken?", e);
      }
    } finally {
      System.setOut(stdout);
    }
    Thread hook = new Thread(this::awaitStopped, "stallwatch-up-shutdown");
    CountDownLatch stopped = new CountDownLatch(1);
    this.stoppedLatch = stopped;
    Runtime.getRuntime().addShutdownHook(hook);
    ContainerDigest digest = null;
    Thread collector = null;
    AtomicReference<Throwable> collectorFailure = new AtomicReference<>();
    try {
      watchJob(stack);
      if (collect != null) {
        collect.bootstrapServers = stack.bootstrapServers();
        collect.kafkaConfig = stack.kafkaConfigFile();
        collector = startCollector(collect, collectorFailure);
      }
      if (collectorFailure.get() == null) { // a collector that could not start has said why; nothing runs
        digest = new ContainerDigest(stack.bootstrapServers(), stack.kafkaProperties(), Topics.DEFAULT_PROFILES, stdout);
        digest.start();
        announce(stack, token, dir, collect);
      }
      stopRequested.await();
      Progress.log("stopping" + (stopReason.get() == null ? "" : " (" + stopReason.get() + ")")
          + ": the collector publishes its last windows, the job keeps its last checkpoint");
    } finally {
      try {
        if (collect != null) {
          collect.requestStop();
        }
        if (collector != null) {
          collector.join(SHUTDOWN_WAIT.toMillis());
        }
        if (digest != null) {
          digest.close();
        }
        stack.close();
        Progress.log("stopped");
      } finally {
        stopped.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is shutting down: the hook waits for this thread
        }
      }
    }
    Throwable failure = collectorFailure.get();
    if (failure instanceof UserError e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException("the collector failed: " + failure, failure);
    }
    return stopReason.get() == null ? 0 : 1;
  }

  private volatile CountDownLatch stoppedLatch;

  /** The shutdown hook: asks the main thread to stop and waits for it, so the order of the stop stays in one place. */
  private void awaitStopped() {
    stopRequested.countDown();
    try {
      if (!stoppedLatch.await(SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS)) {
        System.err.println("stallwatch up: did not stop within " + SHUTDOWN_WAIT.toSeconds() + " s; exiting anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void stopBecause(String reason) {
    stopReason.compareAndSet(null, reason);
    stopRequested.countDown();
  }

  /** A job that ends by itself (its restarts exhausted) leaves nothing detecting: stop, and exit 1. */
  private void watchJob(UpStack stack) {
    Thread watcher = new Thread(() -> {
      try {
        stack.job().awaitTermination();
        if (stopRequested.getCount() > 0) {
          stopBecause("the detection job ended");
        }
      } catch (Exception e) {
        if (stopRequested.getCount() > 0) {
          Progress.log("up: the detection job failed: " + e);
          stopBecause("the detection job failed");
        }
      }
    }, "stallwatch-up-job-watch");
    watcher.setDaemon(true);
    watcher.start();
  }

  /** The collector as 'stallwatch collect' would run, publishing to this broker; configured before anything starts. */
  CollectCommand collectCommand(Path dir) {
    CollectCommand collect = new CollectCommand();
    try {
      new CommandLine(collect).parseArgs(collectOptions.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new UserError("collector option: " + e.getMessage(), e);
    }
    if (collect.bootstrapServers != null || collect.dryRun || collect.duration != null) {
      throw new UserError("collector option: --bootstrap-servers, --dry-run and --duration are up's own: "
          + "the collector publishes to this broker until up stops");
    }
    if (collect.spoolDir == null) {
      collect.spoolDir = dir.resolve(SPOOL_DIR);
    }
    if (collectorListen != null) {
      if (collectOptions.stream().anyMatch(o -> o.startsWith("--http-address"))) {
        throw new UserError("give --collector-listen or the collector's --http-address, not both");
      }
      collect.httpAddress = collectorListen;
    }
    collect.listenAddress(); // a bad address is a usage error now, not after the stack started
    collect.perfSettings();
    return collect;
  }

  /** Runs the collector on a thread of its own; returns once it samples, or throws what stopped it starting. */
  private Thread startCollector(CollectCommand collect, AtomicReference<Throwable> failure)
      throws InterruptedException {
    Thread thread = new Thread(() -> {
      try {
        collect.call();
      } catch (Throwable e) {
        failure.set(e);
      } finally {
        if (stopRequested.getCount() > 0) {
          stopBecause(failure.get() == null ? "the collector stopped" : "the collector failed: " + failure.get().getMessage());
        }
      }
    }, "stallwatch-up-collector");
    thread.start();
    while (collect.running.getCount() > 0 && thread.isAlive()) {
      collect.running.await(200, TimeUnit.MILLISECONDS);
    }
    return thread;
  }

  private record TokenSource(ApiToken token, String description) {}

  /** --api-token-file, else the environment, else DATA_DIR/api-token (made once, 0600, then reused). */
  private TokenSource apiToken(Path dir) throws IOException {
    String env = System.getenv(ServeCommand.API_TOKEN_ENV);
    Path file = apiTokenFile;
    if (file == null && env != null && !env.isBlank()) {
      return new TokenSource(token(env.strip(), ServeCommand.API_TOKEN_ENV), "$" + ServeCommand.API_TOKEN_ENV);
    }
    if (file == null) {
      file = dir.resolve(API_TOKEN_FILE);
      if (!Files.exists(file)) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n",
            StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
      }
    }
    if (!Files.isRegularFile(file)) {
      throw new UserError("--api-token-file " + file + ": no such file");
    }
    String text = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
    return new TokenSource(token(text, file.toString()), "in " + file);
  }

  private static ApiToken token(String text, String source) {
    try {
      return ApiToken.of(text);
    } catch (IllegalArgumentException e) {
      throw new UserError(source + ": " + e.getMessage(), e);
    }
  }

  private void announce(UpStack stack, TokenSource token, Path dir, CollectCommand collect) {
    Progress.log("data:           " + dir.toAbsolutePath() + " (Kafka log, checkpoints, store, spool)");
    Progress.log("detection job:  " + stack.restoredFrom().map(p -> "resumed from " + p).orElse("fresh start"));
    Progress.log("incident pages: " + stack.incidentService() + "/");
    Progress.log("API:            " + stack.incidentService() + "/api/v1/incidents (Authorization: Bearer <token>;"
        + " the token is " + token.description() + ")");
    Progress.log("metrics:        " + stack.incidentService() + "/metrics"
        + (collect == null || collect.listenAddress().isEmpty() ? ""
            : "   collector http://" + collect.httpAddress + CollectorHttpServer.METRICS_PATH));
    if (!stack.receivers().isEmpty()) {
      Progress.log("paging:         " + String.join(", ", stack.receivers()));
    }
    Progress.log("Kafka:          " + stack.bootstrapServers() + " (SASL; client settings with the password in "
        + stack.kafkaConfigFile() + ", 0600)   collectors on other hosts: stallwatch collect --bootstrap-servers "
        + stack.bootstrapServers() + " --kafka-config FILE (the broker listens on loopback only: reach it through an"
        + " SSH tunnel or a TLS proxy)");
    Progress.log(collect == null ? "collector:      none (--no-collect)"
        : "collector:      sampling this host with perf; one line per window with its containers follows on stdout");
    Progress.log("running; Ctrl-C to stop");
  }
}
