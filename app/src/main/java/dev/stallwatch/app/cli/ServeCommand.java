package dev.stallwatch.app.cli;

import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.incidents.web.IncidentService;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
        "Serves the incident history: the incident pages, the JSON API under /api/v1 (bearer token), /healthz and "
            + "/metrics. With --bootstrap-servers it also stores the alerts of stallwatch.alerts.v1 as they come, "
            + "stores the detector's per-window container health of stallwatch.container-health.v1 in the "
            + "container_health table and, with a receiver configured, pages PagerDuty, Alertmanager or a webhook. "
            + "Runs until interrupted.",
        ""})
public final class ServeCommand implements Callable<Integer> {
  public static final String API_TOKEN_ENV = "STALLWATCH_API_TOKEN";
  /** What a stop may take: the notifier delivers what is in flight, the ingestor commits what it stored. */
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(60);
  /** HealthIngestor's default, as a user would write it. */
  private static final String DEFAULT_HEALTH_RETENTION = "3d";

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
      description = "Where the pages and the API listen (default: ${DEFAULT-VALUE}; 0.0.0.0:8080 for every interface).")
  String listen;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
      description = "Kafka with the alerts topic: store its alerts and page. Without it the store is served read-only.")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client properties (SASL, TLS, ...) for the ingestor and the notifier.")
  Path kafkaConfig;

  @Option(names = "--health-retention", paramLabel = "DURATION",
      description = "How much container health to keep, counted back from the newest window (event time, so a "
          + "replayed night stays until newer data arrives); whole UTC days are dropped. E.g. 3d, 36h, 90m "
          + "(default: " + DEFAULT_HEALTH_RETENTION + "). Needs --bootstrap-servers.")
  String healthRetention;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "File holding the API's bearer token, at least " + ApiToken.MIN_LENGTH + " characters, readable by "
          + "its owner only (chmod 600) (default: the "
          + API_TOKEN_ENV + " environment variable).")
  Path apiTokenFile;

  @Mixin
  IncidentStoreOptions store;

  @Mixin
  NotifierSettings pages;

  @Override
  public Integer call() throws Exception {
    IncidentService service = start(System.getenv());
    announce(service);
    runUntilStopped(service);
    return 0;
  }

  /** Checks every option before the store starts, then opens the store and starts serving. */
  IncidentService start(Map<String, String> env) {
    InetSocketAddress address = listenAddress();
    ApiToken token = apiToken(env);
    if (pages.any() && bootstrapServers == null) {
      throw new UserError("--pagerduty-*, --alertmanager-url and --webhook-url page from the alerts topic: "
          + "give --bootstrap-servers too");
    }
    List<Notifier> notifiers = pages.notifiers();
    Properties kafkaProperties = kafkaProperties();
    Duration retention = healthRetention();
    if (bootstrapServers != null) {
      RequiredTopics.check(bootstrapServers, kafkaProperties, kafkaConfig, Topics.defaults().serveTopics());
    }
    IncidentDatabase database = store.open(bootstrapServers != null
        ? DatabaseOptions.Access.READ_WRITE : DatabaseOptions.Access.READ_ONLY);
    try {
      IncidentService.Builder service = IncidentService.builder()
          .database(database)
          .listen(address)
          .apiToken(token)
          .notifiers(notifiers);
      if (bootstrapServers != null) {
        service.bootstrapServers(bootstrapServers).topics(Topics.defaults()).kafkaProperties(kafkaProperties)
            .healthRetention(retention);
      }
      return service.start();
    } catch (UncheckedIOException e) {
      database.close();
      throw new UserError("--listen " + listen + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  private void announce(IncidentService service) {
    URI base = service.baseUri();
    Progress.log("incident store: " + service.storeDescription());
    if (service.ingesting()) {
      Progress.log("storing the alerts of " + Topics.DEFAULT_ALERTS + " at " + bootstrapServers);
      if (service.ingestingHealth()) {
        Progress.log("storing the container health of " + Topics.DEFAULT_CONTAINER_HEALTH
            + " in container_health, keeping " + healthRetentionText()
            + " back from the newest window");
      }
    } else {
      Progress.log("no --bootstrap-servers: serving the store read-only, no alerts are stored and nothing pages");
    }
    if (!service.receivers().isEmpty()) {
      Progress.log("paging " + String.join(", ", service.receivers()) + "; pages link to " + pages.incidentBaseUrl
          + (service.firingFromStore() > 0
              ? "; Alertmanager keeps hearing of " + service.firingFromStore() + " open incident(s) from the store" : ""));
    }
    Progress.log("incident pages: " + base + "/");
    Progress.log("API:            " + base + "/api/v1/incidents (Authorization: Bearer <token>)");
    Progress.log("health:         " + base + "/healthz   metrics: " + base + "/metrics");
    Progress.log("serving; Ctrl-C to stop");
  }

  /**
   * Blocks until SIGINT or SIGTERM, then closes everything before the JVM exits: the shutdown
   * hook only signals this thread and waits for it, so the order of the close stays in one place.
   */
  static void runUntilStopped(AutoCloseable service) throws Exception {
    runUntilStopped(service, new CompletableFuture<>());
  }

  /**
   * {@link #runUntilStopped(AutoCloseable)}, or until {@code fatal} holds a line (a part the
   * service cannot work without has ended): then that line is logged, everything is closed and
   * the exit code is 1, so that nothing goes on looking healthy. 0 after a signal.
   */
  static int runUntilStopped(AutoCloseable service, CompletableFuture<Optional<String>> fatal) throws Exception {
    CountDownLatch stopRequested = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicReference<String> failure = new AtomicReference<>();
    fatal.thenAccept(line -> line.ifPresent(l -> {
      failure.compareAndSet(null, l);
      stopRequested.countDown();
    }));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopRequested.countDown();
      try {
        if (!stopped.await(SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS)) {
          System.err.println("stallwatch: did not stop within " + SHUTDOWN_WAIT.toSeconds() + " s; exiting anyway");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "stallwatch-serve-shutdown"));
    String ended;
    try {
      stopRequested.await();
      ended = failure.get();
      Progress.log(ended != null ? ended + "; stopping everything, since nothing would detect any more"
          : "stopping: delivering pages in flight, committing stored alerts, closing the store");
    } finally {
      try {
        service.close();
        // before the count-down: once the hook returns, the JVM halts
        Progress.log("stopped");
      } finally {
        stopped.countDown();
      }
    }
    return ended != null ? 1 : 0;
  }

  private InetSocketAddress listenAddress() {
    return ListenAddress.parse("--listen", listen);
  }

  private ApiToken apiToken(Map<String, String> env) {
    String token;
    String source;
    if (apiTokenFile != null) {
      token = TokenFile.read(apiTokenFile, "--api-token-file");
      source = "--api-token-file " + apiTokenFile;
    } else {
      token = env.get(API_TOKEN_ENV);
      source = API_TOKEN_ENV;
      if (token == null || token.isBlank()) {
        throw new UserError("the API needs a bearer token: set " + API_TOKEN_ENV + " or --api-token-file FILE ("
            + ApiToken.HOW_TO_MAKE + " > FILE)");
      }
      token = token.strip();
    }
    try {
      return ApiToken.of(token);
    } catch (IllegalArgumentException e) {
      throw new UserError(source + ": " + e.getMessage(), e);
    }
  }

  /** The retention of container_health; checked before anything starts. */
  Duration healthRetention() {
    if (healthRetention != null && bootstrapServers == null) {
      throw new UserError("--health-retention goes with --bootstrap-servers: without Kafka nothing is stored or dropped");
    }
    Duration retention;
    try {
      retention = new CollectCommand.DurationConverter().convert(healthRetentionText());
    } catch (IllegalArgumentException e) {
      throw new UserError("--health-retention: " + e.getMessage(), e);
    }
    if (retention.isZero() || retention.isNegative()) {
      throw new UserError("--health-retention must be positive, got '" + healthRetention + "'");
    }
    return retention;
  }

  private String healthRetentionText() {
    return healthRetention != null ? healthRetention : DEFAULT_HEALTH_RETENTION;
  }

  private Properties kafkaProperties() {
    Properties properties = new Properties();
    if (kafkaConfig == null) {
      return properties;
    }
    if (bootstrapServers == null) {
      throw new UserError("--kafka-config goes with --bootstrap-servers");
    }
    try (Reader reader = Files.newBufferedReader(kafkaConfig, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new UserError("--kafka-config " + kafkaConfig + ": " + e.getMessage(), e);
    }
    return properties;
  }
}
