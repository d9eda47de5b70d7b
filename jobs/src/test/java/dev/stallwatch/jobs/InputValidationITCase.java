package dev.stallwatch.jobs;

import static dev.stallwatch.jobs.DetectorTestBase.GO_1_14_1;
import static dev.stallwatch.jobs.DetectorTestBase.HOST;
import static dev.stallwatch.jobs.DetectorTestBase.MINUTE;
import static dev.stallwatch.jobs.DetectorTestBase.SPIKE_CORES;
import static dev.stallwatch.jobs.DetectorTestBase.SPIKE_SHARE;
import static dev.stallwatch.jobs.DetectorTestBase.STUCK_CORES;
import static dev.stallwatch.jobs.DetectorTestBase.STUCK_SHARE;
import static dev.stallwatch.jobs.DetectorTestBase.T0;
import static dev.stallwatch.jobs.DetectorTestBase.WINDOW;
import static dev.stallwatch.jobs.DetectorTestBase.at;
import static dev.stallwatch.jobs.DetectorTestBase.profileProto;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.stallwatch.jobs.sinks.DeadLetterSerializer;
import dev.stallwatch.jobs.testing.KafkaTestCluster;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real job, unbounded, on a MiniCluster against a real broker: implausible records on every
 * input topic are dead-lettered with their reason before they reach the watermark, and the
 * incident around them is still detected with nothing lost.
 */
@Timeout(180)
class InputValidationITCase {

  private static final String WEDGED = "c-wedged-2100-4b1e";
  private static final long END = at(5 * 60);
  private static final long YEAR_2100 = Instant.parse("2100-01-01T00:00:00Z").toEpochMilli();

  @RegisterExtension
  static final MiniClusterExtension FLINK = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder()
          .setNumberTaskManagers(1)
          .setNumberSlotsPerTaskManager(2)
          .setConfiguration(flinkConfig())
          .build());

  private static KafkaTestCluster kafka;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = KafkaTestCluster.start();
  }

  @AfterAll
  static void stopKafka() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  private static Configuration flinkConfig() {
    Configuration config = new Configuration();
    config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    config.set(PipelineOptions.GENERIC_TYPES, false);
    return config;
  }

  @Test
  void aYear2100RecordAndBadNumbersAreDeadLetteredAndTheIncidentIsStillDetected() throws Exception {
    Topics topics = Topics.defaults().withSuffix(".poison-" + UUID.randomUUID().toString().substring(0, 8));
    kafka.createTopics(topics.all(), 2);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (long t = T0 - 5 * MINUTE; t < T0; t += WINDOW) {
      records.add(profile(topics, t, 1.0, 0.0));
      records.add(upstream(topics, t, 1000, 0));
    }
    // the poison: one upstream window dated 2100, in the middle of the genuine stream
    byte[] year2100 = UpstreamWindow.newBuilder().setSource("envoy").setContainerId(WEDGED)
        .setWindowStartMs(YEAR_2100).setWindowEndMs(YEAR_2100 + WINDOW).setRequests(100).setTimeouts(1)
        .build().toByteArray();
    records.add(new ProducerRecord<>(topics.upstream(), key(), year2100));
    // ... and on the other two topics, so that unchecked they would carry event time to 2100
    records.add(new ProducerRecord<>(topics.profiles(), key(),
        profileProto(WEDGED, YEAR_2100, HOST, 1.0, 0.0, GO_1_14_1).toByteArray()));
    // bad numbers on every input topic
    records.add(new ProducerRecord<>(topics.profiles(), key(),
        profileProto(WEDGED, T0, HOST, 1.0, 0.0, GO_1_14_1).toBuilder()
            .setSampleFrequencyHz(Double.NaN).build().toByteArray()));
    records.add(new ProducerRecord<>(topics.upstream(), key(),
        UpstreamWindow.newBuilder().setContainerId(WEDGED).setWindowStartMs(T0).setWindowEndMs(T0 + WINDOW)
            .setRequests(-5).build().toByteArray()));
    records.add(new ProducerRecord<>(topics.upstream(), key(),
        UpstreamWindow.newBuilder().setContainerId(WEDGED).setWindowStartMs(T0).setWindowEndMs(T0 + WINDOW)
            .setRequests(10).setTimeouts(11).build().toByteArray()));
    records.add(new ProducerRecord<>(topics.traffic(), key(),
        TrafficEvent.newBuilder().setContainerId(WEDGED).setTimestampMs(YEAR_2100)
            .setAction(TrafficAction.TRAFFIC_ACTION_RESTORED).build().toByteArray()));
    List<ProducerRecord<byte[], byte[]>> incident = new ArrayList<>();
    for (long t = at(0); t < at(20); t += WINDOW) {
      incident.add(profile(topics, t, SPIKE_CORES, SPIKE_SHARE));
      incident.add(upstream(topics, t, 1000, 250));
    }
    incident.add(new ProducerRecord<>(topics.traffic(), key(), TrafficEvent.newBuilder().setContainerId(WEDGED)
        .setTimestampMs(at(25)).setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("lb-hook").build()
        .toByteArray()));
    incident.add(profile(topics, at(20), SPIKE_CORES, SPIKE_SHARE));
    incident.add(upstream(topics, at(20), 1000, 0)); // the drain is the event at +25 s
    for (long t = at(30); t < END; t += WINDOW) {
      incident.add(profile(topics, t, STUCK_CORES, STUCK_SHARE));
      incident.add(upstream(topics, t, 0, 0));
    }

    JobClient job = DeadlockDetectionJob.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topics)
        .options(DetectorOptions.fromMap(Map.of("watermark.idleness", "1s")))
        .groupId("it-" + topics.alerts())
        .transactionalIdPrefix("it-" + topics.alerts())
        .checkpointInterval(Duration.ofSeconds(1))
        .build()
        .executeAsync(StreamExecutionEnvironment.getExecutionEnvironment());
    try {
      // the poison in the middle of the genuine stream, in one go as a collector would send it
      records.addAll(incident);
      kafka.send(records);

      List<ConsumerRecord<byte[], byte[]>> alerts = kafka.awaitCommitted(topics.alerts(), 1, Duration.ofSeconds(90)); // a loaded 2-core machine
      assertThat(alerts).singleElement().satisfies(r -> {
        DeadlockAlert alert = alertOf(r);
        assertThat(alert.getContainerId()).isEqualTo(WEDGED);
        assertThat(alert.getEventType()).isEqualTo(AlertEventType.OPEN);
        assertThat(alert.getSpikeStartedAt()).isEqualTo(Instant.ofEpochMilli(at(0)));
        assertThat(alert.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(25)));
        assertThat(alert.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(30)));
        assertThat(alert.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
        assertThat(alert.getTimeoutsAtSpike()).isEqualTo(500); // both spike windows
      });

      List<ConsumerRecord<byte[], byte[]>> deadLetters =
          kafka.awaitCommitted(topics.deadLetter(), 6, Duration.ofSeconds(30));
      assertThat(deadLetters)
          .extracting(d -> header(d, DeadLetterSerializer.SOURCE_TOPIC_HEADER),
              d -> header(d, DeadLetterSerializer.REASON_HEADER))
          .containsExactlyInAnyOrder(
              tuple(topics.upstream(), "future"),
              tuple(topics.profiles(), "future"),
              tuple(topics.profiles(), "number"),
              tuple(topics.upstream(), "number"),
              tuple(topics.upstream(), "number"),
              tuple(topics.traffic(), "future"));
      assertThat(deadLetters).filteredOn(d -> java.util.Arrays.equals(d.value(), year2100)).singleElement()
          .satisfies(d -> assertThat(header(d, DeadLetterSerializer.ERROR_HEADER))
              .startsWith("UpstreamWindow window_start_ms 2100-01-01T00:00:00Z is more than input.max-future"));
      assertThat(deadLetters).extracting(d -> header(d, DeadLetterSerializer.ERROR_HEADER))
          .contains("ProfileWindow sample_frequency_hz NaN: expected a finite number in [0, 1000000]",
              "UpstreamWindow requests is negative: -5", "UpstreamWindow timeouts 11 exceed requests 10");

      // nothing lost: every window from the baseline to the alert was evaluated, in order, once
      int windowsToAlert = (int) ((at(100) - (T0 - 5 * MINUTE)) / WINDOW);
      List<Long> evaluated = kafka.awaitCommitted(topics.containerHealth(), windowsToAlert, Duration.ofSeconds(30))
          .stream().map(InputValidationITCase::healthOf)
          .filter(h -> h.getWindowStartMs() < at(100))
          .map(ContainerHealth::getWindowStartMs).sorted().toList();
      List<Long> expected = new ArrayList<>();
      for (long t = T0 - 5 * MINUTE; t < at(100); t += WINDOW) {
        expected.add(t);
      }
      assertThat(evaluated).containsExactlyElementsOf(expected);
    } finally {
      job.cancel().get();
    }
  }

  private static ProducerRecord<byte[], byte[]> profile(Topics topics, long t, double cores, double share) {
    return new ProducerRecord<>(topics.profiles(), key(),
        profileProto(WEDGED, t, HOST, cores, share, GO_1_14_1).toByteArray());
  }

  private static ProducerRecord<byte[], byte[]> upstream(Topics topics, long t, long requests, long timeouts) {
    return new ProducerRecord<>(topics.upstream(), key(), UpstreamWindow.newBuilder()
        .setSource("envoy").setContainerId(WEDGED).setWindowStartMs(t).setWindowEndMs(t + WINDOW)
        .setRequests(requests).setTimeouts(timeouts).build().toByteArray());
  }

  private static byte[] key() {
    return WEDGED.getBytes(StandardCharsets.UTF_8);
  }

  private static DeadlockAlert alertOf(ConsumerRecord<byte[], byte[]> record) {
    try {
      return DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
    } catch (Exception e) {
      throw new AssertionError("not an Avro single-object DeadlockAlert", e);
    }
  }

  private static ContainerHealth healthOf(ConsumerRecord<byte[], byte[]> record) {
    try {
      return ContainerHealth.parseFrom(record.value());
    } catch (Exception e) {
      throw new AssertionError("not a protobuf ContainerHealth", e);
    }
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
