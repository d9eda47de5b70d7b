package dev.stallwatch.incidents.store;

import dev.stallwatch.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends the records a {@link CommittingConsumer} cannot store to the dead-letter topic: the original
 * key and value, why and where from in the {@link DeadLetterHeaders} every other stallwatch dead
 * letter carries. Waits for the broker's acknowledgement, since the batch's offsets are committed
 * right after. The producer is created on the first dead letter: most runs never need one.
 */
final class DeadLetters implements AutoCloseable {
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

  private final String topic;
  private final Properties producerProperties;
  private KafkaProducer<byte[], byte[]> producer;

  DeadLetters(String topic, Properties producerProperties) {
    this.topic = topic;
    this.producerProperties = producerProperties;
  }

  /** A record that cannot become a row, and why in one line. */
  record Letter(ConsumerRecord<byte[], byte[]> record, String error) {
    ProducerRecord<byte[], byte[]> toProducerRecord(String topic) {
      List<Header> headers = List.of(
          header(DeadLetterHeaders.ERROR, error),
          header(DeadLetterHeaders.SOURCE_TOPIC, record.topic()),
          header(DeadLetterHeaders.SOURCE_PARTITION, String.valueOf(record.partition())),
          header(DeadLetterHeaders.SOURCE_OFFSET, String.valueOf(record.offset())),
          header(DeadLetterHeaders.SOURCE_TIMESTAMP, String.valueOf(record.timestamp())));
      return new ProducerRecord<>(topic, null, null, record.key(), record.value(), headers);
    }

    private static Header header(String name, String value) {
      return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The dead-letter topic did not take a record: the batch must not be committed. */
  static final class DeadLetterException extends RuntimeException {
    DeadLetterException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Sends all and waits until the broker has them. */
  void send(List<Letter> letters) {
    if (letters.isEmpty()) {
      return;
    }
    if (producer == null) {
      producer = new KafkaProducer<>(producerProperties, new ByteArraySerializer(), new ByteArraySerializer());
    }
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    try {
      for (Letter letter : letters) {
        sends.add(producer.send(letter.toProducerRecord(topic)));
      }
      for (Future<RecordMetadata> send : sends) {
        send.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeadLetterException("interrupted while sending dead letters to " + topic, e);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      throw new DeadLetterException("could not send " + letters.size() + " dead letter(s) to " + topic + ": "
          + (e instanceof ExecutionException ? e.getCause() : e), e);
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }
}
