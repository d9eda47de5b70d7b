package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Dead letters to Kafka: the alert's original key and value; why, which receiver and where it
 * came from in headers. The error and source header names are those of the detection job's dead
 * letters, so one tool reads both.
 */
public final class KafkaDeadLetterSink implements DeadLetterSink {
  public static final String ERROR_HEADER = DeadLetterHeaders.ERROR;
  public static final String RECEIVER_HEADER = DeadLetterHeaders.RECEIVER;
  public static final String STATUS_HEADER = DeadLetterHeaders.STATUS;
  public static final String SOURCE_TOPIC_HEADER = DeadLetterHeaders.SOURCE_TOPIC;
  public static final String SOURCE_PARTITION_HEADER = DeadLetterHeaders.SOURCE_PARTITION;
  public static final String SOURCE_OFFSET_HEADER = DeadLetterHeaders.SOURCE_OFFSET;
  public static final String SOURCE_TIMESTAMP_HEADER = DeadLetterHeaders.SOURCE_TIMESTAMP;

  private static final AtomicLong INSTANCES = new AtomicLong();

  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;

  /** {@code clientProperties} are the deployment's client settings (security etc.); may be empty. */
  public KafkaDeadLetterSink(String bootstrapServers, String topic, Properties clientProperties) {
    this.topic = Objects.requireNonNull(topic, "dead-letter topic");
    Properties props = new Properties();
    props.putAll(clientProperties);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrapServers, "bootstrap servers"));
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "stallwatch-notifier-dead-letters-" + INSTANCES.incrementAndGet());
    // a letter counts as written only once every in-sync replica has it
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public void send(DeadLetter letter) throws InterruptedException {
    AlertSource source = letter.source();
    List<Header> headers = List.of(
        header(ERROR_HEADER, letter.receiver() + ": " + letter.error()),
        header(RECEIVER_HEADER, letter.receiver()),
        header(STATUS_HEADER, letter.status()),
        header(SOURCE_TOPIC_HEADER, source.topic()),
        header(SOURCE_PARTITION_HEADER, String.valueOf(source.partition())),
        header(SOURCE_OFFSET_HEADER, String.valueOf(source.offset())),
        header(SOURCE_TIMESTAMP_HEADER, String.valueOf(source.timestamp())));
    try {
      producer.send(new ProducerRecord<>(topic, null, null, source.key(), source.value(), headers)).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("could not write a dead letter for " + source + " (" + letter.receiver() + ": "
          + letter.error() + ") to " + topic + ": " + e.getCause(), e.getCause());
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
