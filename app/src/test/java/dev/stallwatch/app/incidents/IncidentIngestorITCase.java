package dev.stallwatch.app.incidents;

import static dev.stallwatch.app.incidents.IncidentFixtures.DETECTED;
import static dev.stallwatch.app.incidents.IncidentFixtures.open;
import static dev.stallwatch.app.incidents.IncidentFixtures.resolved;
import static dev.stallwatch.app.testing.KafkaTestKit.header;
import static dev.stallwatch.app.testing.KafkaTestKit.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.testing.ExternalProcess;
import dev.stallwatch.app.testing.KafkaTestKit;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentIngestor;
import dev.stallwatch.incidents.store.IncidentStore;
import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.incidents.store.IngestStats;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingestor against a real in-process Kafka broker and a real (embedded) PostgreSQL: what is
 * stored, what is dead-lettered, and that an offset is committed only once its row is durable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IncidentIngestorITCase {
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger TEST_NUMBER = new AtomicInteger();

  @TempDir
  static Path dataDir;

  private static EmbeddedKafka kafka;
  private static DatabaseOptions databaseOptions;
  private static IncidentDatabase database;

  private Topics topics;
  private String group;
  private TopicPartition alertsPartition;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.start();
    // a fixed port: the tests stop the database and start it again where the ingestor expects it
    databaseOptions = DatabaseOptions.embedded(dataDir).withEmbeddedPort(ExternalProcess.freePort());
    database = IncidentDatabase.open(databaseOptions);
  }

  @AfterAll
  static void stop() {
    database.close();
    kafka.close();
  }

  @BeforeEach
  void freshTopicsAndGroup() {
    int n = TEST_NUMBER.incrementAndGet();
    topics = Topics.defaults().withSuffix("-ingest-" + n);
    group = "stallwatch-incidents-test-" + n;
    alertsPartition = new TopicPartition(topics.alerts(), 0);
    kafka.createTopics(List.of(topics.alerts(), topics.deadLetter()), 1);
  }

  private IncidentIngestor ingestor(IncidentStore store) {
    return IncidentIngestor.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(topics)
        .groupId(group)
        .store(store)
        .pollTimeout(Duration.ofMillis(100))
        .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
        .build();
  }

  @Test
  void drainStoresEveryAlertOnceAndCommitsTheEndOffset() {
    DeadlockAlert a = open("drain-a");
    DeadlockAlert b = open("drain-b", "b0b0b0b0", "node-b", DETECTED.plusSeconds(60));
    publish(a, b, resolved(a, DETECTED.plusSeconds(300), "healthy-windows"), a);

    IngestStats stats;
    try (IncidentIngestor ingestor = ingestor(database.store())) {
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(stats.records()).isEqualTo(4);
    assertThat(stats.written()).isEqualTo(3);
    assertThat(stats.unchanged()).as("the replayed OPEN").isEqualTo(1);
    assertThat(stats.deadLettered()).isZero();
    assertThat(find("drain-a").orElseThrow().status()).isEqualTo(IncidentStatus.RESOLVED);
    assertThat(find("drain-b").orElseThrow().status()).isEqualTo(IncidentStatus.OPEN);
    assertThat(committedOffset()).contains(4L);

    // a second drain of the same group has nothing left to do
    try (IncidentIngestor again = ingestor(database.store())) {
      assertThat(again.drainToEnd(DRAIN_TIMEOUT).records()).isZero();
    }
  }

  @Test
  void undecodableRecordsGoToTheDeadLetterTopicWithTheError() {
    byte[] garbage = "not an alert".getBytes(StandardCharsets.UTF_8);
    publishRaw(garbage);
    publish(open("after-garbage"));

    IngestStats stats;
    try (IncidentIngestor ingestor = ingestor(database.store())) {
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(stats.deadLettered()).isEqualTo(1);
    assertThat(find("after-garbage")).isPresent();
    assertThat(committedOffset()).contains(2L);

    List<ConsumerRecord<byte[], byte[]>> letters = readAll(kafka, topics.deadLetter(), 1);
    assertThat(letters.get(0).value()).isEqualTo(garbage);
    assertThat(header(letters.get(0), IncidentIngestor.ERROR_HEADER)).startsWith("undecodable alert: ");
    assertThat(header(letters.get(0), IncidentIngestor.SOURCE_TOPIC_HEADER)).isEqualTo(topics.alerts());
    assertThat(header(letters.get(0), IncidentIngestor.SOURCE_OFFSET_HEADER)).isEqualTo("0");
  }

  @Test
  void anAlertTheDatabaseRefusesIsDeadLetteredAndTheRestOfItsBatchStored() {
    DeadlockAlert refused = DeadlockAlert.newBuilder(open("nul-host")).setHost("node\u0000a").build();
    publish(open("before-nul"), refused, open("after-nul"));

    IngestStats stats;
    try (IncidentIngestor ingestor = ingestor(database.store())) {
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(stats.deadLettered()).isEqualTo(1);
    assertThat(find("before-nul")).isPresent();
    assertThat(find("after-nul")).isPresent();
    assertThat(find("nul-host")).isEmpty();
    assertThat(header(readAll(kafka, topics.deadLetter(), 1).get(0), IncidentIngestor.ERROR_HEADER))
        .startsWith("refused by the incident store: ");
    assertThat(committedOffset()).contains(3L);
  }

  @Test
  void alertsWithNaNInfinityOrNegativeNumbersAreDeadLetteredWithTheReason() {
    DeadlockAlert nan = DeadlockAlert.newBuilder(open("nan-cpu")).setCpuCoresAfterDrain(Double.NaN).build();
    DeadlockAlert infinite = DeadlockAlert.newBuilder(open("inf-share"))
        .setSignatureShare(Double.POSITIVE_INFINITY).build();
    DeadlockAlert negative = DeadlockAlert.newBuilder(open("negative-timeouts")).setTimeoutsAtSpike(-1).build();
    DeadlockAlert huge = DeadlockAlert.newBuilder(open("huge-cpu")).setCpuCoresBeforeDrain(9.2e18).build();
    DeadlockAlert future = DeadlockAlert.newBuilder(open("year-2100"))
        .setDetectedAt(java.time.Instant.parse("2100-01-01T00:00:00Z")).build();
    publish(open("before-nan"), nan, infinite, negative, huge, future, open("after-nan"));

    IngestStats stats;
    try (IncidentIngestor ingestor = ingestor(database.store())) {
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(stats.deadLettered()).isEqualTo(5);
    assertThat(find("before-nan")).isPresent();
    assertThat(find("after-nan")).isPresent();
    for (String id : List.of("nan-cpu", "inf-share", "negative-timeouts", "huge-cpu", "year-2100")) {
      assertThat(find(id)).as(id).isEmpty();
    }
    assertThat(readAll(kafka, topics.deadLetter(), 5)).extracting(r -> header(r, IncidentIngestor.ERROR_HEADER))
        .containsExactly(
            "invalid alert: cpuCoresAfterDrain NaN is not a number of cores in [0, 4096]",
            "invalid alert: signatureShare Infinity is not a share in [0, 1]",
            "invalid alert: timeoutsAtSpike is negative: -1",
            "invalid alert: cpuCoresBeforeDrain 9.2E18 is not a number of cores in [0, 4096]",
            "invalid alert: detectedAt 2100-01-01T00:00:00Z is not between 2000-01-01T00:00:00Z and a day from now");
    assertThat(committedOffset()).contains(7L);
  }

  @Test
  void alertsOfAnAbortedTransactionAreNeverStored() {
    try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(record(open("aborted")));
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(record(open("committed")));
      producer.commitTransaction();
    }
    try (IncidentIngestor ingestor = ingestor(database.store())) {
      ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(find("committed")).isPresent();
    assertThat(find("aborted")).isEmpty();
  }

  @Test
  void whileTheStoreIsDownTheOffsetStaysAndTheRecordIsConsumedAgainLater() {
    IncidentStore store = database.store();
    publish(open("stored-first"));
    try (IncidentIngestor ingestor = ingestor(store)) {
      ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(committedOffset()).contains(1L);

    publish(open("while-down"));
    database.close();
    try (IncidentIngestor ingestor = ingestor(store)) {
      assertThatThrownBy(() -> ingestor.drainToEnd(DRAIN_TIMEOUT)).isInstanceOf(IncidentStoreException.class);
    } finally {
      database = IncidentDatabase.open(databaseOptions);
    }
    assertThat(committedOffset()).as("no commit for a row that is not stored").contains(1L);
    assertThat(find("while-down")).isEmpty();

    IngestStats stats;
    try (IncidentIngestor ingestor = ingestor(store)) {
      stats = ingestor.drainToEnd(DRAIN_TIMEOUT);
    }
    assertThat(stats.records()).as("consumed again").isEqualTo(1);
    assertThat(find("while-down")).isPresent();
    assertThat(committedOffset()).contains(2L);
  }

  @Test
  void runningIngestorRetriesWhileTheStoreIsDownAndCommitsOnlyOnceItIsBack() throws Exception {
    IncidentStore store = database.store();
    IncidentIngestor ingestor = ingestor(store);
    CompletableFuture<Void> running = CompletableFuture.runAsync(ingestor::run);
    try {
      publish(open("live-1"));
      await().atMost(Duration.ofSeconds(30)).until(() -> committedOffset().orElse(0L) == 1L);
      assertThat(find("live-1")).isPresent();

      database.close();
      publish(open("live-2"));
      await().atMost(Duration.ofSeconds(30)).until(() -> ingestor.stats().failedAttempts() >= 2);
      assertThat(committedOffset()).as("the offset waits for the row").contains(1L);

      database = IncidentDatabase.open(databaseOptions);
      await().atMost(Duration.ofSeconds(30)).until(() -> committedOffset().orElse(0L) == 2L);
      assertThat(find("live-2")).isPresent();
      assertThat(running).isNotDone();
    } finally {
      ingestor.close();
    }
    // close() stops run(): it returns normally
    running.get(30, TimeUnit.SECONDS);
  }

  private Optional<Incident> find(String id) {
    return new IncidentQuery(database.readOnlyDataSource()).findById(id);
  }

  private Optional<Long> committedOffset() {
    return KafkaTestKit.committedOffset(kafka, group, alertsPartition);
  }

  private ProducerRecord<byte[], byte[]> record(DeadlockAlert alert) {
    try {
      ByteBuffer buffer = alert.toByteBuffer();
      byte[] value = new byte[buffer.remaining()];
      buffer.get(value);
      return new ProducerRecord<>(topics.alerts(), alert.getContainerId().getBytes(StandardCharsets.UTF_8), value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void publish(DeadlockAlert... alerts) {
    KafkaTestKit.publish(kafka, Arrays.stream(alerts).map(this::record).toList());
  }

  private void publishRaw(byte[] value) {
    KafkaTestKit.publish(kafka, List.of(new ProducerRecord<>(topics.alerts(), null, value)));
  }

  private KafkaProducer<byte[], byte[]> transactionalProducer() {
    return KafkaTestKit.producer(kafka, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "ingest-test-" + group));
  }
}
