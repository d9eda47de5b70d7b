package dev.stallwatch.jobs.sinks;

import dev.stallwatch.jobs.AlertRecord;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Alerts to Kafka: key = container ID, value = Avro single-object encoding. */
public final class AlertRecordSerializer implements KafkaRecordSerializationSchema<AlertRecord> {

  private final String topic;

  public AlertRecordSerializer(String topic) {
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      AlertRecord alert, KafkaSinkContext context, Long timestamp) {
    // no record timestamp: replays carry old event times, and the broker's retention would
    // delete records stamped with them
    return new ProducerRecord<>(
        topic, null, null, alert.containerId.getBytes(StandardCharsets.UTF_8), alert.payload);
  }
}
