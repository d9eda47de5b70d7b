package dev.stallwatch.jobs.sinks;

import dev.stallwatch.jobs.HealthRecord;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Container health to Kafka, keyed by container ID like every topic of the pipeline. */
public final class HealthRecordSerializer implements KafkaRecordSerializationSchema<HealthRecord> {

  private final String topic;

  public HealthRecordSerializer(String topic) {
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(HealthRecord record, KafkaSinkContext context, Long timestamp) {
    // no record timestamp, as for alerts: a replay's old event times would fall to retention
    return new ProducerRecord<>(
        topic, null, null, record.containerId.getBytes(StandardCharsets.UTF_8), record.payload);
  }
}
