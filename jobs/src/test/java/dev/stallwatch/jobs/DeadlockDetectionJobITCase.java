package dev.stallwatch.jobs;

import static dev.stallwatch.jobs.DetectorTestBase.GO_1_14_1;
import static dev.stallwatch.jobs.DetectorTestBase.HOST;
import static dev.stallwatch.jobs.DetectorTestBase.MINUTE;
import static dev.stallwatch.jobs.DetectorTestBase.RULE;
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
import static org.assertj.core.api.Assertions.within;

import dev.stallwatch.jobs.sinks.DeadLetterSerializer;
import dev.stallwatch.jobs.testing.KafkaTestCluster;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
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
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real job on a MiniCluster (parallelism 2) against a real in-process Kafka broker. */
@Timeout(120)
class DeadlockDetectionJobITCase {

  private static final String WEDGED = "c-wedged-0f3a9d2e";
  private static final String WEDGED_THEN_RECOVERS = "c-wedged-recovers-51b2";
  private static final String HEALTHY = "c-healthy-7c1e55ab";
  private static final String RECOVERED = "c-cpu-fell-after-drain-2d40";
  private static final String NOT_DRAINED = "c-spike-no-drain-93aa";
  /** The bundle covers T0-5min .. T0+5min. */
  private static final long END = at(5 * 60);
  private static final byte[] GARBAGE = "{\"not\": \"protobuf\"}".getBytes(StandardCharsets.UTF_8);

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
    // proves that no Kryo is needed anywhere in the job
    config.set(PipelineOptions.GENERIC_TYPES, false);
    return config;
  }

  @Test
  void boundedRunAlertsExactlyTheWedgedContainersAndDeadLettersGarbage(TestInfo test) throws Exception {
    Topics topics = freshTopics(test);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    wedged(topics, WEDGED, at(25), END, records);                  // stuck until the end of the input
    wedged(topics, WEDGED_THEN_RECOVERS, at(25), at(110), records); // 8 stuck windows, then healthy
    healthy(topics, HEALTHY, records);
    cpuFallsAfterDrain(topics, RECOVERED, records);
    spikeWithoutDrain(topics, NOT_DRAINED, records);
    // published container by container, not in event-time order: a bounded run must not care
    records.replaceAll(r -> new ProducerRecord<>(r.topic(), r.key(), r.value()));
    records.add(records.size() / 2, new ProducerRecord<>(topics.profiles(), key(WEDGED), GARBAGE));
    kafka.send(records);

    DeadlockDetectionJob.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topics)
        .bounded(true)
        .groupId("it-" + topics.alerts())
        .transactionalIdPrefix("it-" + topics.alerts())
        .build()
        .execute(StreamExecutionEnvironment.getExecutionEnvironment());

    List<DeadlockAlert> alerts = kafka.readCommitted(topics.alerts(), Duration.ofSeconds(30)).stream()
        .peek(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8))
            .isEqualTo(alertOf(r).getContainerId()))
        .map(DeadlockDetectionJobITCase::alertOf)
        .toList();
    assertThat(alerts)
        .extracting(DeadlockAlert::getContainerId, DeadlockAlert::getEventType, DeadlockAlert::getResolveReason)
        .containsExactlyInAnyOrder(
            tuple(WEDGED, AlertEventType.OPEN, null),
            tuple(WEDGED_THEN_RECOVERS, AlertEventType.OPEN, null),
            tuple(WEDGED_THEN_RECOVERS, AlertEventType.RESOLVED, "healthy-windows"));
    DeadlockAlert wedged = alerts.stream().filter(a -> a.getContainerId().equals(WEDGED)).findFirst().orElseThrow();
    assertThat(wedged.getIncidentId()).isEqualTo(DeadlockDetector.incidentId(WEDGED, at(25), RULE));
    assertThat(wedged.getDrainedBy()).isEqualTo("lb-hook:haproxy-3");
    assertThat(wedged.getSpikeStartedAt()).isEqualTo(Instant.ofEpochMilli(at(0)));
    assertThat(wedged.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(30)));
    assertThat(wedged.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
    assertThat(wedged.getHost()).isEqualTo(HOST);
    assertThat(wedged.getRuntimeVersion()).isEqualTo(GO_1_14_1);
    assertThat(wedged.getKnownIssues()).hasSize(2).allSatisfy(i -> assertThat(i.getVersionAffected()).isTrue());
    DeadlockAlert resolved = alerts.stream()
        .filter(a -> a.getEventType() == AlertEventType.RESOLVED).findFirst().orElseThrow();
    assertThat(resolved.getResolvedAt()).isEqualTo(Instant.ofEpochMilli(at(30) + 11 * WINDOW));

    List<ConsumerRecord<byte[], byte[]>> deadLetters = kafka.readCommitted(topics.deadLetter(), Duration.ofSeconds(30));
    assertThat(deadLetters).singleElement().satisfies(d -> {
      assertThat(d.key()).isEqualTo(key(WEDGED));
      assertThat(d.value()).isEqualTo(GARBAGE);
      assertThat(header(d, DeadLetterSerializer.ERROR_HEADER)).startsWith("InvalidProtocolBufferException");
      assertThat(header(d, DeadLetterSerializer.SOURCE_TOPIC_HEADER)).isEqualTo(topics.profiles());
      assertThat(header(d, DeadLetterSerializer.SOURCE_PARTITION_HEADER)).matches("[01]");
      assertThat(header(d, DeadLetterSerializer.SOURCE_OFFSET_HEADER)).matches("\\d+");
    });

    List<ContainerHealth> health = kafka.readCommitted(topics.containerHealth(), Duration.ofSeconds(30)).stream()
        .peek(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(healthOf(r).getContainerId()))
        .map(DeadlockDetectionJobITCase::healthOf)
        .toList();
    List<ContainerHealth> wedgedHealth = health.stream()
        .filter(h -> h.getContainerId().equals(WEDGED))
        .sorted(Comparator.comparingLong(ContainerHealth::getWindowStartMs))
        .toList();
    // every window of the bundle had data, and every one was evaluated once
    assertThat(wedgedHealth).extracting(ContainerHealth::getWindowStartMs)
        .containsExactlyElementsOf(windowStarts(T0 - 5 * MINUTE, END));
    // 30 baseline windows; spikes at T0, T0+10s; drained at T0+25s; stuck from T0+30s; alert at T0+90s
    List<DetectorState> states = new ArrayList<>();
    states.addAll(Collections.nCopies(30, DetectorState.HEALTHY));
    states.addAll(Collections.nCopies(2, DetectorState.SPIKING));
    states.add(DetectorState.DRAINED);
    states.addAll(Collections.nCopies(5, DetectorState.STUCK));
    states.addAll(Collections.nCopies(wedgedHealth.size() - states.size(), DetectorState.ALERTING));
    assertThat(wedgedHealth).extracting(ContainerHealth::getDetectorState).containsExactlyElementsOf(states);
    assertThat(wedgedHealth.get(38).getWindowStartMs()).isEqualTo(at(80));
    assertThat(wedgedHealth.get(wedgedHealth.size() - 1)).satisfies(last -> {
      assertThat(last.getDetectorState()).isEqualTo(DetectorState.ALERTING);
      assertThat(last.getIncidentId()).isEqualTo(wedged.getIncidentId());
      assertThat(last.getSignatureId()).isEqualTo(RULE);
      assertThat(last.getSignatureShare()).isCloseTo(STUCK_SHARE, within(1e-9));
      assertThat(last.getCpuCores()).isCloseTo(STUCK_CORES, within(1e-9));
      assertThat(last.getHost()).isEqualTo(HOST);
    });
    assertThat(health).filteredOn(h -> h.getContainerId().equals(HEALTHY))
        .hasSize(windowStarts(T0 - 5 * MINUTE, END).size())
        .allSatisfy(h -> assertThat(h.getDetectorState()).isEqualTo(DetectorState.HEALTHY));
  }

  @Test
  void unboundedRunPagesWhileTheJobRuns(TestInfo test) throws Exception {
    Topics topics = freshTopics(test);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    // data well past the alert and the out-of-orderness, so the watermark passes T0+90s
    wedged(topics, WEDGED, at(25), END, records);
    healthy(topics, HEALTHY, records);
    sortByEventTime(records);

    JobClient job = DeadlockDetectionJob.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topics)
        // partitions without data must not hold event time back for a minute in a test
        .options(DetectorOptions.fromMap(Map.of("watermark.idleness", "1s")))
        .groupId("it-" + topics.alerts())
        .transactionalIdPrefix("it-" + topics.alerts())
        .checkpointInterval(Duration.ofSeconds(1))
        .build()
        .executeAsync(StreamExecutionEnvironment.getExecutionEnvironment());
    try {
      kafka.send(records);

      List<ConsumerRecord<byte[], byte[]>> alerts = kafka.awaitCommitted(topics.alerts(), 1, Duration.ofSeconds(60));
      assertThat(alerts).singleElement().satisfies(r -> {
        DeadlockAlert alert = alertOf(r);
        assertThat(alert.getContainerId()).isEqualTo(WEDGED);
        assertThat(alert.getEventType()).isEqualTo(AlertEventType.OPEN);
        assertThat(alert.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
      });
    } finally {
      job.cancel().get();
    }
  }

  // --- the bundle ---------------------------------------------------------------------------

  /**
   * Baseline, two spike windows, an explicit DRAINED event, then stuck windows from the first
   * window after the drain until {@code stuckUntil}, then nearly idle windows until {@link #END}.
   */
  private static void wedged(Topics topics, String c, long drainedAt, long stuckUntil,
      List<ProducerRecord<byte[], byte[]>> out) {
    baseline(topics, c, out);
    for (long t = at(0); t < at(20); t += WINDOW) {
      out.add(profile(topics, c, t, SPIKE_CORES, SPIKE_SHARE));
      out.add(upstream(topics, c, t, 1000, 250));
    }
    out.add(traffic(topics, c, drainedAt, TrafficAction.TRAFFIC_ACTION_DRAINED, "lb-hook:haproxy-3"));
    long firstStuck = (drainedAt / WINDOW + 1) * WINDOW;
    for (long t = at(20); t < firstStuck; t += WINDOW) {
      out.add(profile(topics, c, t, SPIKE_CORES, SPIKE_SHARE));
    }
    for (long t = firstStuck; t < stuckUntil; t += WINDOW) {
      out.add(profile(topics, c, t, STUCK_CORES, STUCK_SHARE));
    }
    for (long t = stuckUntil; t < END; t += WINDOW) {
      out.add(profile(topics, c, t, 0.05, 0.0));
    }
  }

  private static void healthy(Topics topics, String c, List<ProducerRecord<byte[], byte[]>> out) {
    baseline(topics, c, out);
    for (long t = at(0); t < END; t += WINDOW) {
      out.add(profile(topics, c, t, 1.0, 0.0));
      out.add(upstream(topics, c, t, 1000, 2));
    }
  }

  private static void cpuFallsAfterDrain(Topics topics, String c, List<ProducerRecord<byte[], byte[]>> out) {
    baseline(topics, c, out);
    out.add(profile(topics, c, at(0), SPIKE_CORES, SPIKE_SHARE));
    out.add(upstream(topics, c, at(0), 1000, 400));
    for (long t = at(10); t < END; t += WINDOW) {
      out.add(profile(topics, c, t, 0.1, 0.0));
      out.add(upstream(topics, c, t, 0, 0));
    }
  }

  private static void spikeWithoutDrain(Topics topics, String c, List<ProducerRecord<byte[], byte[]>> out) {
    baseline(topics, c, out);
    for (long t = at(0); t < END; t += WINDOW) {
      out.add(profile(topics, c, t, STUCK_CORES, STUCK_SHARE));
      out.add(upstream(topics, c, t, 1000, t < at(30) ? 300 : 5));
    }
  }

  private static void baseline(Topics topics, String c, List<ProducerRecord<byte[], byte[]>> out) {
    for (long t = T0 - 5 * MINUTE; t < T0; t += WINDOW) {
      out.add(profile(topics, c, t, 1.0, 0.0));
      out.add(upstream(topics, c, t, 1000, 0));
    }
  }

  private static ProducerRecord<byte[], byte[]> profile(Topics topics, String c, long t, double cores, double share) {
    return record(topics.profiles(), c, t, profileProto(c, t, HOST, cores, share, GO_1_14_1).toByteArray());
  }

  private static ProducerRecord<byte[], byte[]> upstream(Topics topics, String c, long t, long requests, long timeouts) {
    return record(topics.upstream(), c, t, UpstreamWindow.newBuilder()
        .setSource("replay:upstream.csv").setContainerId(c).setWindowStartMs(t).setWindowEndMs(t + WINDOW)
        .setRequests(requests).setTimeouts(timeouts).build().toByteArray());
  }

  private static ProducerRecord<byte[], byte[]> traffic(Topics topics, String c, long t, TrafficAction action, String actor) {
    return record(topics.traffic(), c, t, TrafficEvent.newBuilder()
        .setContainerId(c).setTimestampMs(t).setAction(action).setActor(actor).build().toByteArray());
  }

  /** Event time travels in the record timestamp only for sorting; the job reads it from the value. */
  private static ProducerRecord<byte[], byte[]> record(String topic, String c, long eventTime, byte[] value) {
    return new ProducerRecord<>(topic, null, eventTime, key(c), value);
  }

  /** The collector publishes in event-time order; the watermark is per Kafka partition. */
  private static void sortByEventTime(List<ProducerRecord<byte[], byte[]>> records) {
    records.sort(Comparator.comparingLong(ProducerRecord::timestamp));
    records.replaceAll(r -> new ProducerRecord<>(r.topic(), r.key(), r.value()));
  }

  private static Topics freshTopics(TestInfo test) throws Exception {
    Topics topics = Topics.defaults().withSuffix("." + test.getTestMethod().orElseThrow().getName()
        + "-" + UUID.randomUUID().toString().substring(0, 8));
    kafka.createTopics(topics.all(), 2);
    return topics;
  }

  private static byte[] key(String container) {
    return container.getBytes(StandardCharsets.UTF_8);
  }

  private static DeadlockAlert alertOf(ConsumerRecord<byte[], byte[]> record) {
    try {
      return DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
    } catch (Exception e) {
      throw new AssertionError("not an Avro single-object DeadlockAlert", e);
    }
  }

  private static List<Long> windowStarts(long from, long until) {
    List<Long> starts = new ArrayList<>();
    for (long t = from; t < until; t += WINDOW) {
      starts.add(t);
    }
    return starts;
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
