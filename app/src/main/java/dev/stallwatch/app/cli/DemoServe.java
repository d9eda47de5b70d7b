package dev.stallwatch.app.cli;

import dev.stallwatch.app.Directories;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.demo.DemoStack;
import dev.stallwatch.app.replay.BundlePublisher;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.incidents.AlertReport;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.SecretFile;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * {@code stallwatch demo --serve}: the demo's incident on a stack that stays up, with every
 * component's {@code /metrics}, so that Prometheus and Grafana can be pointed at it.
 */
final class DemoServe {
  /** The login role Grafana's PostgreSQL datasource uses: a member of the read-only role. */
  static final String GRAFANA_ROLE = "grafana";
  /** Unbounded, the alert waits for the watermark to pass the stuck windows; this is generous. */
  private static final Duration INCIDENT_WAIT = Duration.ofMinutes(3);
  private static final Duration POLL = Duration.ofMillis(500);
  /** Dashboard links open this much before the spike and after the bundle's data. */
  private static final Duration LINK_MARGIN = Duration.ofMinutes(5);

  private final DemoCommand command;

  DemoServe(DemoCommand command) {
    this.command = command;
  }

  int run() throws Exception {
    DemoServeOptions where = command.serveOptions;
    // every option is checked before anything starts
    String token = apiToken();
    DatabaseOptions databaseOptions = command.store.databaseOptions();
    Path dataDir = databaseOptions.isEmbedded() ? databaseOptions.dataDir() : DatabaseOptions.defaultDataDir();
    Path demoDir = dataDir.resolve("demo");
    Path spoolDir = demoDir.resolve("spool");
    DetectorOptions options = command.detector.options(DemoStack.OPTION_DEFAULTS);
    DemoStack.Settings settings = new DemoStack.Settings(options, command.detector.rules(),
        DeadlockDetectionJob.DEFAULT_CHECKPOINT_INTERVAL, where.listen(), where.collectorListen(), where.flinkMetricsPort(),
        ApiToken.of(token), command.pages.notifiers(), spoolDir);
    Path prometheusConfig = where.prometheusConfig(dataDir);
    Path bundleDir = command.bundleDir != null ? command.bundleDir : demoDir.resolve("bundle");

    Progress.log("writing the demo bundle to " + bundleDir);
    DemoBundle demo = new DemoBundle();
    demo.write(bundleDir);
    // a spool left by an earlier run would send its windows again to this run's new broker
    Directories.deleteRecursively(spoolDir);

    PrintStream stdout = System.out;
    System.setOut(System.err); // Flink and Kafka print; stdout carries only the report
    DemoStack stack;
    try {
      IncidentDatabase database = command.store.open(DatabaseOptions.Access.READ_WRITE);
      if (databaseOptions.isEmbedded()) {
        try {
          ensureGrafanaRole(database, databaseOptions);
        } catch (SQLException | IOException | RuntimeException e) {
          database.close();
          throw e;
        }
      }
      try {
        stack = DemoStack.start(settings, database, Progress::log);
      } catch (UncheckedIOException e) {
        throw new UserError("cannot listen (" + DemoServeOptions.NAMES + "): " + e.getCause().getMessage(), e);
      }
      try {
        BundlePublisher.Stats stats = stack.publish(ReplayBundle.load(bundleDir));
        Progress.log("published " + stats.samples() + " samples as " + stats.profileWindows() + " profile windows, "
            + stats.upstreamWindows() + " upstream windows and " + stats.trafficEvents() + " traffic events");
        Progress.log("waiting for the detection job to store the incident (the watermark has to pass the stuck windows)");
        List<Incident> incidents = await(stack, "stored", list -> !list.isEmpty());
        if (!incidents.isEmpty() && stack.job().endedOnItsOwn().isEmpty()) {
          Path recovery = demoDir.resolve("recovery");
          Progress.log("the on-call restarts orders-svc at 12:55 and restores its traffic: replaying two more minutes"
              + " from " + recovery);
          demo.writeRecovery(recovery);
          stack.publish(ReplayBundle.load(recovery));
          incidents = await(stack, "resolved", list -> !list.isEmpty() && list.get(0).resolvedAt() != null);
        }
        Optional<String> ended = stack.job().endedOnItsOwn();
        if (ended.isPresent()) {
          stack.close();
          System.err.println("stallwatch demo: " + ended.get());
          return 1;
        }
        DemoStack.Endpoints endpoints = stack.endpoints();
        writePrometheusConfig(prometheusConfig, endpoints);
        for (Incident incident : incidents) {
          stdout.println(AlertReport.render(incident.openAlert(), incident.resolvedAlertOrNull()));
        }
        stdout.flush();
        announce(endpoints, prometheusConfig, databaseOptions, incidents, token);
      } catch (RuntimeException | InterruptedException | IOException e) {
        // nothing serves: stop what started, the store included
        try {
          stack.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);
        }
        throw e;
      }
    } finally {
      System.setOut(stdout);
    }
    return ServeCommand.runUntilStopped(stack, stack.jobEnded());
  }

  /** Polls the store until the wedged container's incidents satisfy {@code done}, or gives up with a message. */
  private static List<Incident> await(DemoStack stack, String what, Predicate<List<Incident>> done)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(INCIDENT_WAIT);
    List<Incident> incidents = stack.incidents(DemoBundle.WEDGED);
    while (!done.test(incidents) && Instant.now().isBefore(deadline) && stack.job().endedOnItsOwn().isEmpty()) {
      Thread.sleep(POLL.toMillis());
      incidents = stack.incidents(DemoBundle.WEDGED);
    }
    if (!done.test(incidents) && stack.job().endedOnItsOwn().isEmpty()) {
      Progress.log("the incident was not " + what + " within " + INCIDENT_WAIT.toMinutes()
          + " minutes; serving anyway (see the log above)");
    }
    return incidents;
  }

  /** The token of STALLWATCH_API_TOKEN, or a fresh one that is printed: a demo needs no set-up. */
  private static String apiToken() {
    String token = System.getenv(ServeCommand.API_TOKEN_ENV);
    if (token == null || token.isBlank()) {
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
    try {
      ApiToken.of(token.strip());
    } catch (IllegalArgumentException e) {
      throw new UserError(ServeCommand.API_TOKEN_ENV + ": " + e.getMessage(), e);
    }
    return token.strip();
  }

  /** The password of {@value #GRAFANA_ROLE} (0600), generated on first use. */
  static Path grafanaPasswordFile(DatabaseOptions options) {
    return options.secretsDir().resolve("grafana.password");
  }

  /** The same password as a docker {@code --env-file} (0600) for the printed Grafana command. */
  static Path grafanaEnvFile(DatabaseOptions options) {
    return options.secretsDir().resolve("grafana.env");
  }

  /**
   * Grafana reads the store as {@value #GRAFANA_ROLE}, a login role in the read-only
   * {@code stallwatch_reader}, with a password of its own: the embedded store asks every role for one.
   */
  private static void ensureGrafanaRole(IncidentDatabase database, DatabaseOptions options)
      throws SQLException, IOException {
    String password = SecretFile.readOrCreate(grafanaPasswordFile(options));
    SecretFile.writeOwnerOnly(grafanaEnvFile(options), GrafanaLaunch.PASSWORD_VARIABLE + "=" + password + "\n");
    String literal = "'" + password.replace("'", "''") + "'";
    try (Connection connection = database.dataSource().getConnection();
         Statement statement = connection.createStatement()) {
      // also gives a password to a grafana role of an older demo, which had none
      statement.execute("DO $$ BEGIN "
          + "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + GRAFANA_ROLE + "') THEN "
          + "CREATE ROLE " + GRAFANA_ROLE + " LOGIN PASSWORD " + literal + " IN ROLE stallwatch_reader; "
          + "ELSE ALTER ROLE " + GRAFANA_ROLE + " LOGIN PASSWORD " + literal + "; END IF; END $$");
    }
  }

  private static void writePrometheusConfig(Path file, DemoStack.Endpoints endpoints) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, endpoints.prometheusConfig(Duration.ofSeconds(5)), StandardCharsets.UTF_8);
  }

  private static void announce(DemoStack.Endpoints endpoints, Path prometheusConfig, DatabaseOptions database,
                               List<Incident> incidents, String token) {
    // bin/stallwatch passes the checkout, where deploy/ and dashboards/ are; docker wants absolute paths
    String home = Path.of(System.getProperty("stallwatch.home", ".")).toAbsolutePath().normalize().toString();
    URI postgres = URI.create(endpoints.postgresJdbcUrl().substring("jdbc:".length()));
    Progress.log("incident pages: " + endpoints.incidentService() + "/");
    Progress.log("API token:      " + (System.getenv(ServeCommand.API_TOKEN_ENV) != null
        ? "$" + ServeCommand.API_TOKEN_ENV : token + "   (set " + ServeCommand.API_TOKEN_ENV + " to choose it)"));
    Progress.log("metrics:        collector " + endpoints.collectorMetrics() + "   job " + endpoints.flinkMetrics()
        + "   incident service " + endpoints.incidentMetrics());
    Progress.log("Kafka:          " + endpoints.kafka());
    Progress.log("PostgreSQL:     " + endpoints.postgresJdbcUrl() + " (Grafana logs in as '"
        + (database.isEmbedded() ? GRAFANA_ROLE + "', its password in " + grafanaPasswordFile(database)
            : "a member of stallwatch_reader'") + ")");
    Progress.log("Prometheus:     prometheus --config.file=" + prometheusConfig.toAbsolutePath()
        + " --storage.tsdb.path=" + prometheusConfig.toAbsolutePath().getParent().resolve("prometheus-data")
        + " --web.listen-address=127.0.0.1:9090");
    Progress.log("Grafana:        " + GrafanaLaunch.command(home, "http://127.0.0.1:9090", postgres.getHost(),
        postgres.getPort(), database.isEmbedded() ? GRAFANA_ROLE : "YOUR_READER_LOGIN",
        database.isEmbedded() ? grafanaEnvFile(database) : null)
        + "   then open " + GrafanaLaunch.GRAFANA_URL);
    for (Incident incident : incidents) {
      Instant from = incident.spikeStartedAt().minus(LINK_MARGIN);
      Instant to = (incident.resolvedAt() != null ? incident.resolvedAt() : incident.detectedAt()).plus(LINK_MARGIN);
      Progress.log("the incident:   " + endpoints.incidentService() + "/incidents/" + incident.incidentId());
      Progress.log("in Grafana:     " + GrafanaLaunch.containerDashboard(incident.containerId(), from, to));
      Progress.log("the fleet then: " + GrafanaLaunch.fleetDashboard(from, to));
    }
    Progress.log("serving; Ctrl-C to stop");
  }
}
