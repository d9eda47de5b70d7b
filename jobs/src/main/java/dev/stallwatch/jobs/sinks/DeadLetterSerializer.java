package dev.stallwatch.jobs.sinks;

import dev.stallwatch.schemas.DeadLetterHeaders;
import dev.stallwatch.jobs.events.DeadLetter;
import dev.stallwatch.jobs.events.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Dead letters to Kafka: the original key and value, where they came from and why in headers. */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {

  public static final String ERROR_HEADER = DeadLetterHeaders.ERROR;
  public static final String REASON_HEADER = DeadLetterHeaders.REASON;
  public static final String SOURCE_TOPIC_HEADER = DeadLetterHeaders.SOURCE_TOPIC;
  public static final String SOURCE_PARTITION_HEADER = DeadLetterHeaders.SOURCE_PARTITION;
  public static final String SOURCE_OFFSET_HEADER = DeadLetterHeaders.SOURCE_OFFSET;
  public static final String SOURCE_TIMESTAMP_HEADER = DeadLetterHeaders.SOURCE_TIMESTAMP;

  private final String topic;

  public DeadLetterSerializer(String topic) {
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      DeadLetter letter, KafkaSinkContext context, Long timestamp) {
    List<Header> headers = List.of(
        header(ERROR_HEADER, letter.error),
        header(REASON_HEADER, (letter.reason == null ? DeadLetterReason.UNDECODABLE : letter.reason).label()),
        header(SOURCE_TOPIC_HEADER, letter.topic),
        header(SOURCE_PARTITION_HEADER, String.valueOf(letter.partition)),
        header(SOURCE_OFFSET_HEADER, String.valueOf(letter.offset)),
        header(SOURCE_TIMESTAMP_HEADER, String.valueOf(letter.timestamp)));
    return new ProducerRecord<>(topic, null, null, letter.key, letter.value, headers);
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, (value == null ? "" : value).getBytes(StandardCharsets.UTF_8));
  }
}
