package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code stallwatch drain} against a real in-process broker; the events are read back from the topic. */
@Timeout(60)
class DrainCommandITCase {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static EmbeddedKafka kafka;

  @TempDir
  Path dir;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  private static int run(StringWriter err, String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    Properties props = kafka.clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaConsumer<String, byte[]> consumer =
             new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      return records;
    }
  }

  @Test
  void drainAndRestoreArePublishedKeyedByContainer() throws Exception {
    String topic = "traffic-" + UUID.randomUUID();
    kafka.createTopics(List.of(topic), 2);
    Path clientConfig = dir.resolve("client.properties");
    Files.writeString(clientConfig, Files.readString(kafka.clientConfigFile()) + "client.id=drain-itcase\n");
    StringWriter err = new StringWriter();

    int drained = run(err, "drain", ORDERS, "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
        "--actor", "lb-hook:haproxy-3", "--reason", "upstream timeouts", "--kafka-config", clientConfig.toString());
    int restored = run(err, "drain", ORDERS, "--restore", "--bootstrap-servers", kafka.bootstrapServers(),
        "--topic", topic, "--actor", "operator:alice", "--kafka-config", kafka.clientConfigFile().toString());

    assertThat(drained).as(err.toString()).isZero();
    assertThat(restored).as(err.toString()).isZero();
    List<ConsumerRecord<String, byte[]>> records = readAll(topic);
    assertThat(records).extracting(ConsumerRecord::key).containsExactly(ORDERS, ORDERS);
    List<TrafficEvent> events = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : records) {
      events.add(TrafficEvent.parseFrom(record.value()));
    }
    assertThat(events).extracting(TrafficEvent::getAction, TrafficEvent::getActor, TrafficEvent::getReason)
        .containsExactly(
            tuple(TrafficAction.TRAFFIC_ACTION_DRAINED, "lb-hook:haproxy-3",
                "upstream timeouts"),
            tuple(TrafficAction.TRAFFIC_ACTION_RESTORED, "operator:alice", ""));
    assertThat(events).allSatisfy(e -> {
      assertThat(e.getContainerId()).isEqualTo(ORDERS);
      assertThat(e.getTimestampMs()).isCloseTo(System.currentTimeMillis(), within(60_000L));
    });
  }
}
