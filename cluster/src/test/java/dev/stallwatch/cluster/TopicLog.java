package dev.stallwatch.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Everything that arrives on one topic, from its beginning, with the wall-clock time it became
 * readable: read_committed, so an alert counts only once its transaction is committed.
 */
final class TopicLog<T> implements AutoCloseable {
  record Arrival<T>(T value, long arrivedAtMs) {}

  private final List<Arrival<T>> arrivals = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Throwable failure;

  TopicLog(String bootstrap, String topic, int partitions, Function<byte[], T> decode) {
    thread = new Thread(() -> {
      Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer<byte[], byte[]> consumer =
               new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
          all.add(new TopicPartition(topic, p));
        }
        consumer.assign(all);
        consumer.seekToBeginning(all);
        while (running) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            T value = decode.apply(r.value());
            synchronized (arrivals) {
              arrivals.add(new Arrival<>(value, System.currentTimeMillis()));
            }
          }
        }
      } catch (Throwable t) {
        failure = t;
      }
    }, "topic-log-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  List<Arrival<T>> arrivals() {
    if (failure != null) {
      throw new AssertionError("reading the topic failed", failure);
    }
    synchronized (arrivals) {
      return List.copyOf(arrivals);
    }
  }

  List<T> values() {
    return arrivals().stream().map(Arrival::value).toList();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
  }
}
