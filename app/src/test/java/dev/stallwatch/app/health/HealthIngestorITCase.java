package dev.stallwatch.app.health;

import static dev.stallwatch.app.testing.KafkaTestKit.header;
import static dev.stallwatch.app.testing.KafkaTestKit.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.testing.KafkaTestKit;
import dev.stallwatch.incidents.health.HealthIngestMetrics;
import dev.stallwatch.incidents.health.HealthIngestStats;
import dev.stallwatch.incidents.health.HealthIngestor;
import dev.stallwatch.incidents.health.HealthStore;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.incidents.web.IncidentService;
import dev.stallwatch.schemas.DeadLetterHeaders;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container health ingestor against a real in-process Kafka broker and a real (embedded)
 * PostgreSQL: the rows, the dead letters with their headers, the committed offsets, the
 * event-time retention and the metrics, alone and inside {@code IncidentService}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HealthIngestorITCase {
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger TEST_NUMBER = new AtomicInteger();
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String CHECKOUT = "c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec";
  /** The demo's incident night, years before the clock this runs on. */
  private static final Instant NIGHT = Instant.parse("2021-12-29T12:52:00Z");

  @TempDir
  static Path dataDir;

  private static EmbeddedKafka kafka;
  private static DatabaseOptions databaseOptions;
  private static IncidentDatabase database;
  private static HealthStore store;

  private Topics topics;
  private String group;
  private TopicPartition healthPartition;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.start();
    databaseOptions = DatabaseOptions.embedded(dataDir);
    database = IncidentDatabase.open(databaseOptions);
    store = new HealthStore(database.dataSource());
  }

  @AfterAll
  static void stop() {
    database.close();
    kafka.close();
  }

  @BeforeEach
  void freshTopicsGroupAndTable() {
    int n = TEST_NUMBER.incrementAndGet();
    topics = Topics.defaults().withSuffix("-health-" + n);
    group = "stallwatch-health-test-" + n;
    healthPartition = new TopicPartition(topics.containerHealth(), 0);
    kafka.createTopics(topics.all(), 1);
    // retention counts from the newest row in the table: each test starts from an empty one
    store.pruneBefore(Instant.parse("9999-01-01T00:00:00Z"));
  }

  private HealthIngestor ingestor() {
    return HealthIngestor.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(topics)
        .groupId(group)
        .store(store)
        .pollTimeout(Duration.ofMillis(100))
        .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
        .build();
  }

  static ContainerHealth window(String containerId, Instant end, DetectorState state) {
    return ContainerHealth.newBuilder()
        .setContainerId(containerId)
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setWindowStartMs(end.minusSeconds(10).toEpochMilli())
        .setWindowEndMs(end.toEpochMilli())
        .setCpuCores(0.99)
        .setRequests(3075)
        .setTimeouts(1844)
        .setSignatureId("go-timer-livelock")
        .setSignatureShare(0.86)
        .setDetectorState(state)
        .setIncidentId(state == DetectorState.ALERTING ? "b47101c4-d617-37c4-9adb-c2071b4d8ea3" : "")
        .build();
  }

  @Test
  void drainStoresTheWindowsReplacesRedeliveriesDeadLettersTheRestAndCommitsTheEnd() throws Exception {
    ContainerHealth upstreamOnly = ContainerHealth.newBuilder()
        .setContainerId(CHECKOUT)
        .setWindowStartMs(NIGHT.minusSeconds(10).toEpochMilli())
        .setWindowEndMs(NIGHT.toEpochMilli())
        .setRequests(40)
        .setTimeouts(2)
        .setDetectorState(DetectorState.HEALTHY)
        .build();
    byte[] truncated = {0x0a, 0x7f, 'x'};
    List<ProducerRecord<byte[], byte[]>> records = List.of(
        record(window(ORDERS, NIGHT, DetectorState.STUCK)),
        record(upstreamOnly),
        // the same window again, as the job's replay after a failover would send it
        record(window(ORDERS, NIGHT, DetectorState.ALERTING)),
        record(ORDERS, truncated),
        record(window("", NIGHT, DetectorState.HEALTHY)),
        record(window(ORDERS, NIGHT.plusSeconds(10), DetectorState.DETECTOR_STATE_UNSPECIFIED)),
        record(window(ORDERS, NIGHT.plusSeconds(20), DetectorState.STUCK).toBuilder()
            .setWindowStartMs(NIGHT.plusSeconds(20).toEpochMilli()).build()),
        record(window(ORDERS, Instant.now().plus(Duration.ofHours(2)), DetectorState.STUCK)),
        record(window(ORDERS, NIGHT.plusSeconds(10), DetectorState.ALERTING)));
    publish(records);

    PrometheusRegistry registry = new PrometheusRegistry();
    HealthIngestStats stats;
    try (HealthIngestor ingestor = ingestor()) {
      HealthIngestMetrics.register(registry, ingestor);
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }

    assertThat(stats.written()).isEqualTo(4);
    assertThat(stats.deadLettered()).isEqualTo(5);
    assertThat(stats.expired()).isZero();
    assertThat(stats.records()).isEqualTo(9);
    assertThat(committedOffset()).contains(9L);

    assertThat(strings("SELECT container_id || ' ' || to_char(window_end AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' '"
        + " || detector_state || ' ' || coalesce(incident_id, '-') || ' ' || host || ' ' || coalesce(pod, '-')"
        + " FROM container_health ORDER BY container_id, window_end")).containsExactly(
        ORDERS + " 12:52:00 ALERTING b47101c4-d617-37c4-9adb-c2071b4d8ea3 node-a orders-7f9c6d5b8-x2k4q",
        ORDERS + " 12:52:10 ALERTING b47101c4-d617-37c4-9adb-c2071b4d8ea3 node-a orders-7f9c6d5b8-x2k4q",
        CHECKOUT + " 12:52:00 HEALTHY -  -");

    List<ConsumerRecord<byte[], byte[]>> letters = readAll(kafka, topics.deadLetter(), 5);
    assertThat(letters).hasSize(5);
    assertThat(letters).extracting(letter -> header(letter, DeadLetterHeaders.ERROR)).satisfiesExactly(
        error -> assertThat(error).startsWith("undecodable container health: "),
        error -> assertThat(error).isEqualTo("malformed container health: container_id is empty"),
        error -> assertThat(error).isEqualTo("malformed container health: detector_state is unspecified"),
        error -> assertThat(error).startsWith("malformed container health: window_end_ms ")
            .contains("is not after window_start_ms"),
        error -> assertThat(error).startsWith("malformed container health: window_end ")
            .contains("ahead of this server's clock"));
    for (int i = 0; i < letters.size(); i++) {
      ConsumerRecord<byte[], byte[]> letter = letters.get(i);
      ProducerRecord<byte[], byte[]> original = records.get(3 + i);
      assertThat(letter.value()).isEqualTo(original.value());
      assertThat(letter.key()).isEqualTo(original.key());
      assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(topics.containerHealth());
      assertThat(header(letter, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("0");
      assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo(String.valueOf(3 + i));
      assertThat(header(letter, DeadLetterHeaders.SOURCE_TIMESTAMP)).isEqualTo(String.valueOf(original.timestamp()));
    }

    String metrics = scrape(registry);
    assertThat(metrics)
        .contains("stallwatch_health_ingest_records_total{outcome=\"written\"} 4.0")
        .contains("stallwatch_health_ingest_records_total{outcome=\"dead_lettered\"} 5.0")
        .contains("stallwatch_health_ingest_records_total{outcome=\"expired\"} 0.0")
        .contains("stallwatch_health_ingest_batches_total " + stats.batches() + ".0")
        .contains("stallwatch_health_ingest_failed_attempts_total 0.0")
        .contains("stallwatch_health_ingest_partitions_dropped_total 0.0")
        .contains("stallwatch_health_ingest_lag_records 0.0");
    assertThat(stats.batches()).isPositive();
    assertThat(gauge(metrics, "stallwatch_health_ingest_newest_window_seconds"))
        .isEqualTo(NIGHT.plusSeconds(10).getEpochSecond());

    // a second drain of the same group has nothing left to do
    try (HealthIngestor again = ingestor()) {
      assertThat(again.drainToEnd(DRAIN_TIMEOUT).records()).isZero();
    }
  }

  @Test
  void retentionCountsBackFromTheNewestWindowNotFromTheWallClock() throws Exception {
    publish(List.of(record(window(ORDERS, NIGHT, DetectorState.STUCK)),
        record(window(ORDERS, NIGHT.plusSeconds(10), DetectorState.ALERTING))));
    try (HealthIngestor ingestor = ingestor()) {
      HealthIngestStats stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
      assertThat(stats.written()).isEqualTo(2);
      assertThat(stats.partitionsDropped()).isZero();
    }
    // years older than the clock, and kept: it is the newest there is
    assertThat(store.partitionDays()).containsExactly(LocalDate.parse("2021-12-29"));

    // three days and a bit later (the default retention), a straggler of the day before the night
    Instant later = Instant.parse("2022-01-02T00:00:10Z");
    publish(List.of(record(window(ORDERS, later, DetectorState.HEALTHY)),
        record(window(CHECKOUT, NIGHT.minus(Duration.ofDays(1)), DetectorState.HEALTHY))));
    PrometheusRegistry registry = new PrometheusRegistry();
    HealthIngestStats stats;
    // a new ingestor, as after a restart: it reads the newest window from the table
    try (HealthIngestor ingestor = ingestor()) {
      HealthIngestMetrics.register(registry, ingestor);
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
      assertThat(ingestor.newestWindowEnd()).contains(later);
    }
    assertThat(stats.written()).isEqualTo(1);
    assertThat(stats.expired()).as("the straggler's day is out of the retention").isEqualTo(1);
    assertThat(stats.partitionsDropped()).isEqualTo(1);
    assertThat(store.partitionDays()).containsExactly(LocalDate.parse("2022-01-02"));
    assertThat(committedOffset()).contains(4L);
    String metrics = scrape(registry);
    assertThat(metrics)
        .contains("stallwatch_health_ingest_records_total{outcome=\"expired\"} 1.0")
        .contains("stallwatch_health_ingest_partitions_dropped_total 1.0");
    assertThat(gauge(metrics, "stallwatch_health_ingest_newest_window_seconds")).isEqualTo(later.getEpochSecond());
  }

  @Test
  void theIncidentServiceRunsTheHealthIngestorBesideTheAlertsAndReportsBoth() throws Exception {
    // a second open of the same directory uses the running server; the service closes only its own
    IncidentService service = IncidentService.builder()
        .database(IncidentDatabase.open(databaseOptions))
        .listen(new InetSocketAddress("127.0.0.1", 0))
        .apiToken(ApiToken.of("0123456789abcdef0123"))
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(topics)
        .healthGroupId(group)
        .healthRetention(Duration.ofDays(7))
        .start();
    try {
      assertThat(service.ingestingHealth()).isTrue();
      assertThat(service.healthRetention()).isEqualTo(Duration.ofDays(7));
      publish(List.of(record(window(ORDERS, NIGHT, DetectorState.ALERTING))));

      await().atMost(Duration.ofSeconds(60)).until(() -> committedOffset().orElse(0L) == 1L);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(get(service, "/metrics"))
          .contains("stallwatch_health_ingest_records_total{outcome=\"written\"} 1.0")
          .contains("stallwatch_health_ingest_lag_records 0.0")
          .contains("stallwatch_ingest_lag_records 0.0"));
      JsonNode checks = new ObjectMapper().readTree(get(service, "/healthz")).get("checks");
      assertThat(checks.get("health-ingestor").get("ok").asBoolean()).isTrue();
      assertThat(checks.get("health-ingestor").get("detail").asText()).isEqualTo("running");
      assertThat(checks.get("ingestor").get("detail").asText()).isEqualTo("running");
    } finally {
      service.close();
    }
    assertThat(strings("SELECT detector_state FROM container_health")).containsExactly("ALERTING");
    assertThat(store.newestWindowEnd()).as("the shared database is still up").contains(NIGHT);
  }

  private static String get(IncidentService service, String path) throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(service.baseUri() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  private static String scrape(PrometheusRegistry registry) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(text, registry.scrape());
    return text.toString(StandardCharsets.UTF_8);
  }

  /** The value of an unlabelled sample in the text format. */
  private static long gauge(String metrics, String name) {
    return metrics.lines()
        .filter(line -> line.startsWith(name + " "))
        .map(line -> (long) Double.parseDouble(line.substring(name.length() + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in\n" + metrics));
  }

  private Optional<Long> committedOffset() {
    return KafkaTestKit.committedOffset(kafka, group, healthPartition);
  }

  private ProducerRecord<byte[], byte[]> record(ContainerHealth health) {
    return record(health.getContainerId(), health.toByteArray());
  }

  /** Keyed by container ID as the job writes them; a timestamp of its own, to find in the dead letter. */
  private ProducerRecord<byte[], byte[]> record(String containerId, byte[] value) {
    return new ProducerRecord<>(topics.containerHealth(), 0, NIGHT.toEpochMilli() + value.length,
        containerId.getBytes(StandardCharsets.UTF_8), value);
  }

  private void publish(List<ProducerRecord<byte[], byte[]>> records) {
    KafkaTestKit.publish(kafka, records);
  }

  private static List<String> strings(String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = database.readOnlyDataSource().getConnection(); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }
}
