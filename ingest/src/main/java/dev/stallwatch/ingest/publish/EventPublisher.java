package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes collector events to Kafka as protobuf, keyed by container ID so that every event of
 * a container lands in one partition, in order. The producer is idempotent: a retried send is
 * never written twice.
 */
public final class EventPublisher implements EventSink {
  private final Producer<String, byte[]> producer;
  private final Topics topics;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

  public EventPublisher(String bootstrapServers, Topics topics, Properties overrides) {
    this.producer = new KafkaProducer<>(producerProperties(bootstrapServers, overrides), new StringSerializer(), new ByteArraySerializer());
    this.topics = topics;
  }

  /**
   * How collector events are produced: idempotent (a retried send is written once), acks from all
   * replicas, lz4, batched; {@code overrides} (the user's {@code --kafka-config}) win.
   */
  static Properties producerProperties(String bootstrapServers, Properties overrides) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    props.putAll(overrides);
    return props;
  }

  @Override
  public void publish(ProfileWindow window) {
    send(topics.profiles(), window.getContainerId(), window.toByteArray());
  }

  @Override
  public void publish(UpstreamWindow window) {
    send(topics.upstream(), window.getContainerId(), window.toByteArray());
  }

  @Override
  public void publish(TrafficEvent event) {
    send(topics.traffic(), event.getContainerId(), event.toByteArray());
  }

  @Override
  public void publish(WindowManifest manifest) {
    send(topics.completeness(), manifest.getContainerId(), manifest.toByteArray());
  }

  /** Waits until everything sent so far is acknowledged; throws if any send failed. */
  @Override
  public void flush() {
    producer.flush();
    Exception failure = firstFailure.get();
    if (failure != null) {
      throw new IllegalStateException("publishing to Kafka failed: " + failure.getMessage(), failure);
    }
  }

  public long acknowledged() {
    return sent.get();
  }

  private void send(String topic, String key, byte[] value) {
    producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
      if (error == null) {
        sent.incrementAndGet();
      } else {
        firstFailure.compareAndSet(null, error);
      }
    });
  }

  @Override
  public void close() {
    producer.close();
  }
}
