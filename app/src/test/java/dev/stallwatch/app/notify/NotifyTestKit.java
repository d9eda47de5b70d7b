package dev.stallwatch.app.notify;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Alerts as the detection job writes them, and the Kafka chores of the notifier ITCases. */
final class NotifyTestKit {
  static final String CONTAINER = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";

  private NotifyTestKit() {}

  /** Fresh alert and dead-letter topics for one test. */
  static Topics topics(EmbeddedKafka kafka, String test) {
    Topics topics = Topics.defaults().withSuffix("." + test);
    kafka.createTopics(List.of(topics.alerts(), topics.deadLetter()), 2);
    return topics;
  }

  /** An OPEN alert detected a minute ago, so that Alertmanager sees a fresh incident. */
  static DeadlockAlert open(String incidentId) {
    Instant detected = Instant.now().truncatedTo(ChronoUnit.MILLIS).minus(Duration.ofMinutes(1));
    Instant spike = detected.minusSeconds(90);
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId(incidentId)
        .setContainerId(CONTAINER)
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setSignatureId("go-timer-livelock")
        .setSignatureTitle("Go 1.14 timer self-deadlock")
        .setSpikeStartedAt(spike)
        .setDrainedAt(spike.plusSeconds(30))
        .setDrainedBy("requests")
        .setStuckSince(spike.plusSeconds(30))
        .setDetectedAt(detected)
        .setCpuCoresBeforeDrain(0.99)
        .setCpuCoresAfterDrain(0.997)
        .setSignatureShare(0.855)
        .setTimeoutsAtSpike(1844)
        .setRequestsAtSpike(3075)
        .setTopStacks(new ArrayList<>(List.of(new WeightedStack(
            "orders-svc;runtime.morestack;runtime.newstack;runtime.checkTimers;runtime.adjusttimers;runtime.osyield",
            51737373220L, 0.855))))
        .setRuntimeVersion("go1.14.1")
        .setKnownIssues(new ArrayList<>(List.of(new KnownIssue("golang/go#38023",
            "https://github.com/golang/go/issues/38023", "runtime: loops forever on sched_yield sometimes",
            "go1.14.2", true))))
        .setRemediation("Upgrade to go1.14.2 or later")
        .build();
  }

  static DeadlockAlert resolved(DeadlockAlert open, Instant at) {
    DeadlockAlert resolved = DeadlockAlert.newBuilder(open).build();
    resolved.setEventType(AlertEventType.RESOLVED);
    resolved.setResolvedAt(at.truncatedTo(ChronoUnit.MILLIS));
    resolved.setResolveReason("healthy-windows");
    return resolved;
  }

  static byte[] bytes(DeadlockAlert alert) {
    try {
      ByteBuffer buffer = alert.toByteBuffer();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void produce(EmbeddedKafka kafka, String topic, DeadlockAlert... alerts) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = producer(kafka, new Properties())) {
      for (DeadlockAlert alert : alerts) {
        producer.send(record(topic, alert.getContainerId(), bytes(alert))).get();
      }
    }
  }

  static KafkaProducer<byte[], byte[]> producer(EmbeddedKafka kafka, Properties extra) {
    Properties props = kafka.clientProperties();
    props.putAll(extra);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
    return new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
  }

  /** The group's committed offsets on {@code topic}, summed over partitions (0 when none). */
  static long committed(EmbeddedKafka kafka, String groupId, String topic)
      throws ExecutionException, InterruptedException {
    try (Admin admin = kafka.admin()) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
      return offsets.entrySet().stream()
          .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
          .mapToLong(e -> e.getValue().offset())
          .sum();
    }
  }

  /** Every record on {@code topic} as of now. */
  static List<ConsumerRecord<byte[], byte[]>> readAll(EmbeddedKafka kafka, String topic) {
    Properties props = kafka.clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to " + end);
        }
        consumer.poll(Duration.ofMillis(100)).forEach(records::add);
      }
    }
    return records;
  }

  static String header(ConsumerRecord<?, ?> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
