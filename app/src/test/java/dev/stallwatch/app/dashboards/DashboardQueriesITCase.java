package dev.stallwatch.app.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.demo.DemoStack;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.testing.ExternalProcess;
import dev.stallwatch.incidents.notify.WebhookNotifier;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query of every dashboard, against the real thing: the demo stack (Kafka, the job on a
 * MiniCluster with Flink's Prometheus reporter, the incident service, the collector's metrics)
 * replays the demo bundle while Debian's {@code prometheus} scrapes it with the configuration
 * {@code demo --serve} writes. Then each PromQL target is evaluated through Prometheus's HTTP API
 * and must return series, and each SQL target (panels, variables, annotations) runs on the real
 * store as the read-only role Grafana uses, with Grafana's macros expanded, and must return rows
 * for the demo's incident.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardQueriesITCase {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ExternalProcess.Binary PROMETHEUS = new ExternalProcess.Binary("Prometheus",
      "stallwatch.prometheus", List.of("prometheus"), "prometheus");
  private static final Duration SCRAPE = Duration.ofSeconds(1);
  /** What Grafana would put for $__rate_interval at a 1 s scrape and a short range: 4 scrapes and more. */
  private static final Duration RATE_INTERVAL = Duration.ofSeconds(30);

  @TempDir
  static Path dir;

  private HttpServer webhook;
  private IncidentDatabase database;
  private DemoStack stack;
  private ExternalProcess prometheus;
  /** Per SQL query (by where it is): its error or null, and whether it returned rows. */
  private Map<String, SqlOutcome> whileOpen;
  private Map<String, SqlOutcome> afterResolution;

  private record SqlOutcome(String sql, String error, boolean rows) {}

  @BeforeAll
  void replayTheDemoWhilePrometheusScrapes() throws Exception {
    // a receiver, so that the notifier runs and exports its series
    webhook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    webhook.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    webhook.start();
    database = IncidentDatabase.open(DatabaseOptions.embedded(dir.resolve("data")));
    DemoStack.Settings settings = new DemoStack.Settings(
        DetectorOptions.defaults().withOverrides(DemoStack.OPTION_DEFAULTS), SignatureRules.defaults(),
        Duration.ofSeconds(1),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        ExternalProcess.freePort(),
        ApiToken.of("dashboard-queries-test-token-0123456789"),
        List.of(WebhookNotifier.builder()
            .url(URI.create("http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook")).build()),
        dir.resolve("spool"));
    stack = DemoStack.start(settings, database, message -> System.err.println("[demo] " + message));

    int port = ExternalProcess.freePort();
    Path config = Files.writeString(dir.resolve("prometheus.yml"), stack.endpoints().prometheusConfig(SCRAPE));
    prometheus = ExternalProcess.start(PROMETHEUS, dir, port, List.of(
        "--config.file=" + config,
        "--storage.tsdb.path=" + Files.createDirectories(dir.resolve("tsdb")),
        "--web.listen-address=127.0.0.1:" + port));

    Path bundle = dir.resolve("bundle");

    DemoBundle demo = new DemoBundle();
    demo.write(bundle);
    stack.publish(ReplayBundle.load(bundle));
    Incident open = await("the demo's incident in the store").atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> stack.incidents(DemoBundle.WEDGED), list -> !list.isEmpty()).get(0);
    // the SQL runs twice: while the incident is open ("open incidents" has a row), and after it resolved
    whileOpen = runSql(open);
    // the on-call restarts the container: the incident resolves, and the resolve annotation has its row
    Path recovery = dir.resolve("recovery");
    demo.writeRecovery(recovery);
    stack.publish(ReplayBundle.load(recovery));
    Incident resolved = await("the demo's incident resolved").atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> stack.incidents(DemoBundle.WEDGED), list -> !list.isEmpty() && list.get(0).resolvedAt() != null)
        .get(0);
    afterResolution = runSql(resolved);
  }

  @AfterAll
  void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (stack != null) {
      stack.close(); // closes the database too
    } else if (database != null) {
      database.close();
    }
    if (webhook != null) {
      webhook.stop(0);
    }
  }

  @Test
  void prometheusScrapesEveryComponent() throws Exception {
    // the incident may open and resolve before Prometheus's first scrape: wait for one of each target
    JsonNode up = await("Prometheus has scraped every target").atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500)).until(() -> prometheusQuery("up"), series -> series.size() >= 3);
    assertThat(up).extracting(series -> series.path("metric").path("job").asText() + "="
            + series.path("value").path(1).asText())
        .containsExactlyInAnyOrder(DemoStack.COLLECTOR_JOB + "=1", DemoStack.INCIDENTS_JOB + "=1",
            DemoStack.FLINK_JOB + "=1");
  }

  @Test
  void everyPromQlTargetReturnsSeries() {
    List<Dashboards.Query> queries = Dashboards.queries().stream()
        .filter(q -> q.kind() == Dashboards.Kind.PROMQL)
        .toList();
    assertThat(queries).as("PromQL targets in dashboards/").isNotEmpty();
    // counters that move only when the replay's data passes through need a few scrapes to show a rate
    await("every PromQL target returns series").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
        .untilAsserted(() -> assertThat(emptyPromQl(queries)).as("PromQL targets without data").isEmpty());
  }

  @Test
  void everySqlTargetRunsAndReturnsRowsForTheIncident() {
    assertThat(whileOpen).as("SQL targets in dashboards/").isNotEmpty();
    List<String> failures = new ArrayList<>();
    whileOpen.forEach((where, open) -> {
      SqlOutcome resolved = afterResolution.get(where);
      if (open.error() != null) {
        failures.add(where + " (incident open): " + open.error() + "\n    " + open.sql());
      } else if (resolved.error() != null) {
        failures.add(where + " (incident resolved): " + resolved.error() + "\n    " + resolved.sql());
      } else if (!open.rows() && !resolved.rows()) {
        failures.add(where + ": no rows, neither while the incident was open nor after it resolved\n    "
            + resolved.sql());
      }
    });
    assertThat(failures).as("SQL targets that failed or returned nothing").isEmpty();
  }

  /**
   * Runs every SQL target as Grafana would over the incident's time range once the container
   * health of the incident's last event is stored: as the read-only role, macros expanded.
   */
  private Map<String, SqlOutcome> runSql(Incident incident) throws SQLException {
    Instant lastEvent = incident.resolvedAt() != null ? incident.resolvedAt() : incident.detectedAt();
    Instant dataEnd = await("container health rows up to " + lastEvent).atMost(Duration.ofMinutes(1))
        .until(this::lastHealthWindow, end -> end != null && !end.isBefore(lastEvent));
    Instant from = incident.spikeStartedAt().minus(Duration.ofMinutes(10));
    Instant to = dataEnd.plus(Duration.ofMinutes(10));
    Map<String, String> vars = Map.of("container", DemoBundle.WEDGED, "namespace", incident.namespace());
    Map<String, SqlOutcome> outcomes = new LinkedHashMap<>();
    try (Connection connection = database.dataSource().getConnection();
         Statement statement = connection.createStatement()) {
      // Grafana's role: read-only, a member of stallwatch_reader
      statement.execute("SET ROLE stallwatch_reader");
      for (Dashboards.Query query : Dashboards.queries()) {
        if (query.kind() != Dashboards.Kind.SQL) {
          continue;
        }
        String sql = Dashboards.expandSql(query.text(), from, to, vars);
        try (ResultSet rows = statement.executeQuery(sql)) {
          outcomes.put(where(query), new SqlOutcome(sql, null, rows.next()));
        } catch (SQLException e) {
          outcomes.put(where(query), new SqlOutcome(sql, e.getMessage(), false));
        }
      }
    }
    return outcomes;
  }

  private List<String> emptyPromQl(List<Dashboards.Query> queries) throws IOException, InterruptedException {
    List<String> empty = new ArrayList<>();
    for (Dashboards.Query query : queries) {
      String expr = Dashboards.expandPromQl(query.text(), RATE_INTERVAL, Map.of());
      try {
        if (prometheusQuery(expr).isEmpty()) {
          empty.add(where(query) + ": " + expr);
        }
      } catch (IllegalStateException e) {
        empty.add(where(query) + ": " + expr + " -> " + e.getMessage());
      }
    }
    return empty;
  }

  private static String where(Dashboards.Query query) {
    return query.dashboardUid() + " / " + query.where();
  }

  private JsonNode prometheusQuery(String expr) throws IOException, InterruptedException {
    JsonNode answer = MAPPER.readTree(prometheus.get("/api/v1/query?query="
        + URLEncoder.encode(expr, StandardCharsets.UTF_8)));
    if (!"success".equals(answer.path("status").asText())) {
      throw new IllegalStateException(answer.toString());
    }
    return answer.path("data").path("result");
  }

  private Instant lastHealthWindow() throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT max(window_end) FROM container_health WHERE container_id = '"
             + DemoBundle.WEDGED + "'")) {
      rows.next();
      java.sql.Timestamp end = rows.getTimestamp(1);
      return end == null ? null : end.toInstant();
    }
  }
}
