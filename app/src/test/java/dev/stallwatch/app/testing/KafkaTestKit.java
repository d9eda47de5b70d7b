package dev.stallwatch.app.testing;

import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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

/**
 * The Kafka chores of the ingestor ITCases against an {@link EmbeddedKafka}: producing records,
 * reading a topic back, a group's committed offset, a dead letter's headers.
 */
public final class KafkaTestKit {
  private KafkaTestKit() {}

  /** A producer of raw bytes with {@code acks=all}, and {@code extra} settings (a transactional ID). */
  public static KafkaProducer<byte[], byte[]> producer(EmbeddedKafka kafka, Map<String, Object> extra) {
    Properties props = kafka.clientProperties();
    props.putAll(extra);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Sends the records and returns once the broker has them all. */
  public static void publish(EmbeddedKafka kafka, List<ProducerRecord<byte[], byte[]>> records) {
    try (KafkaProducer<byte[], byte[]> producer = producer(kafka, Map.of())) {
      for (ProducerRecord<byte[], byte[]> record : records) {
        producer.send(record);
      }
    }
  }

  /** The records of partition 0 of {@code topic} from its beginning, once there are at least {@code expected}. */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(EmbeddedKafka kafka, String topic, int expected) {
    Properties props = kafka.clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(new TopicPartition(topic, 0)));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(100)).forEach(records::add);
        return records.size() >= expected;
      });
    }
    return records;
  }

  /** The offset {@code group} committed on {@code partition}; empty when it has none. */
  public static Optional<Long> committedOffset(EmbeddedKafka kafka, String group, TopicPartition partition) {
    try (var admin = kafka.admin()) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      OffsetAndMetadata offset = offsets.get(partition);
      return offset == null ? Optional.empty() : Optional.of(offset.offset());
    } catch (Exception e) {
      throw new IllegalStateException("could not read the offsets of " + group, e);
    }
  }

  /** The last header {@code name} of {@code record}, as UTF-8 text. */
  public static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
