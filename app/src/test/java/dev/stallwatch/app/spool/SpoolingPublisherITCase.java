package dev.stallwatch.app.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.ingest.publish.SpoolingPublisher;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool against a real in-process broker that is stopped in the middle of a run and started
 * again on the same data directory and ports. Every window carries its sequence number in
 * {@code window_start_ms} ({@code n * 10 s}); the topic is read back whole and every number counted.
 */
@Timeout(120)
class SpoolingPublisherITCase {
  private static final int CONTAINERS = 8;
  private static final Duration DELIVERY = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private final Topics topics = Topics.defaults().withSuffix("-" + UUID.randomUUID());
  private EmbeddedKafka kafka;
  private EmbeddedKafka.Ports ports;
  /** The broker's SASL settings: the same after a restart on its directory, and known while it is down. */
  private Properties clientProperties;

  @BeforeEach
  void startKafka() {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"), false);
    ports = kafka.ports();
    clientProperties = kafka.clientProperties();
    kafka.createTopics(topics.inputs(), 4);
  }

  @AfterEach
  void stopKafka() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private void stopBroker() {
    kafka.close();
    kafka = null;
  }

  private void restartBroker() {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"), false, ports);
  }

  private SpoolingPublisher spool(Properties kafkaProperties) {
    Properties props = new Properties();
    props.putAll(clientProperties);
    props.putAll(kafkaProperties);
    return SpoolingPublisher.builder()
        .bootstrapServers("127.0.0.1:" + ports.broker())
        .topics(topics)
        .kafkaProperties(props)
        .spoolDir(dir.resolve("spool"))
        .maxInFlight(50)
        .closeTimeout(Duration.ofMillis(500))
        .registry(new PrometheusRegistry())
        .build();
  }

  static UpstreamWindow window(long n) {
    long start = n * 10_000;
    return UpstreamWindow.newBuilder()
        .setSource("itcase")
        .setContainerId("container-" + (n % CONTAINERS))
        .setHost("node-a")
        .setWindowStartMs(start)
        .setWindowEndMs(start + 10_000)
        .setRequests(100)
        .setTimeouts(n % 3)
        .build();
  }

  /** Publishes windows 0, 1, 2, ... on its own thread, as far as the test lets it. */
  private static final class WindowStream implements AutoCloseable {
    private final SpoolingPublisher spool;
    private final AtomicLong published = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Object lock = new Object();
    private long target;
    private boolean stopped;
    private final Thread thread;

    WindowStream(SpoolingPublisher spool) {
      this.spool = spool;
      this.thread = new Thread(this::run, "window-stream");
      this.thread.start();
    }

    private void run() {
      try {
        while (true) {
          synchronized (lock) {
            while (published.get() >= target && !stopped) {
              lock.wait();
            }
            if (stopped) {
              return;
            }
          }
          spool.publish(window(published.get()));
          published.incrementAndGet();
        }
      } catch (Throwable e) {
        failure.set(e);
      }
    }

    /** Lets the stream go on up to {@code n} windows, without waiting for it. */
    void continueTo(long n) {
      synchronized (lock) {
        target = n;
        lock.notifyAll();
      }
    }

    void awaitPublished(long n) {
      await().atMost(Duration.ofSeconds(30)).until(() -> published.get() >= n || failure.get() != null);
      assertThat(failure.get()).isNull();
    }

    @Override
    public void close() {
      synchronized (lock) {
        stopped = true;
        lock.notifyAll();
      }
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while stopping the window stream", e);
      }
      assertThat(failure.get()).isNull();
    }
  }

  /** Every record on the upstream topic: window number -> copies, and each partition's numbers in order. */
  private record Delivered(Map<Long, Integer> copies, List<List<Long>> partitions) {
    long duplicates() {
      return copies.values().stream().mapToLong(c -> c - 1).sum();
    }
  }

  private Delivered readBack() {
    Properties config = kafka.clientProperties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topics.upstream()).stream()
          .map(p -> new TopicPartition(topics.upstream(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<Long, Integer> copies = new HashMap<>();
      Map<Integer, List<Long>> byPartition = new HashMap<>();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          UpstreamWindow window = parse(record.value());
          long n = window.getWindowStartMs() / 10_000;
          assertThat(record.key()).isEqualTo(window.getContainerId());
          copies.merge(n, 1, Integer::sum);
          byPartition.computeIfAbsent(record.partition(), p -> new ArrayList<>()).add(n);
        }
      }
      return new Delivered(copies, List.copyOf(byPartition.values()));
    }
  }

  private static UpstreamWindow parse(byte[] bytes) {
    try {
      return UpstreamWindow.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError("not an UpstreamWindow on the upstream topic", e);
    }
  }

  private static void assertEveryWindowOnce(Delivered delivered, long windows) {
    assertThat(delivered.copies().keySet()).containsExactlyInAnyOrderElementsOf(
        LongStream.range(0, windows).boxed().toList());
    assertThat(delivered.duplicates()).isZero();
  }

  private static void assertInOrderPerPartition(Delivered delivered) {
    for (List<Long> partition : delivered.partitions()) {
      assertThat(partition).isSorted();
    }
  }

  @Test
  void brokerStoppedAndRestartedMidRunEveryWindowArrivesOnceAndInOrder() throws Exception {
    try (SpoolingPublisher spool = spool(new Properties()); WindowStream stream = new WindowStream(spool)) {
      stream.continueTo(2_000);
      stream.awaitPublished(2_000);
      await().atMost(DELIVERY).until(() -> spool.sent() >= 1_000);

      // the broker goes away while windows keep coming
      stream.continueTo(4_000);
      stopBroker();
      stream.awaitPublished(4_000);
      stream.continueTo(5_000);
      stream.awaitPublished(5_000);
      // at least the last thousand were published with no broker at all: they wait in the spool
      assertThat(spool.pending()).isGreaterThanOrEqualTo(1_000);

      // the broker comes back on the same data directory and ports, still while windows keep coming
      stream.continueTo(7_000);
      restartBroker();
      stream.awaitPublished(7_000);
      assertThat(spool.awaitDelivered(DELIVERY)).as("all acknowledged").isTrue();
      assertThat(spool.sent()).isEqualTo(7_000);
      assertThat(spool.dropped()).isZero();
      // the producer retried what it held across the outage, so nothing was sent twice
      assertThat(spool.failedSends()).isZero();
    }
    Delivered delivered = readBack();
    assertEveryWindowOnce(delivered, 7_000);
    assertInOrderPerPartition(delivered);
  }

  @Test
  void sendsThatTimeOutDuringTheOutageAreSentAgainFromTheSpool() throws Exception {
    // a user's short delivery timeout: sends fail while the broker is away, and come back from the spool
    Properties shortTimeouts = new Properties();
    shortTimeouts.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "1500");
    shortTimeouts.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "1000");
    shortTimeouts.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000");
    try (SpoolingPublisher spool = spool(shortTimeouts); WindowStream stream = new WindowStream(spool)) {
      stream.continueTo(1_000);
      stream.awaitPublished(1_000);
      assertThat(spool.awaitDelivered(DELIVERY)).isTrue();

      stopBroker();
      stream.continueTo(3_000);
      stream.awaitPublished(3_000);
      await().atMost(DELIVERY).until(() -> spool.failedSends() > 0);

      restartBroker();
      stream.continueTo(4_000);
      stream.awaitPublished(4_000);
      assertThat(spool.awaitDelivered(DELIVERY)).as("all acknowledged").isTrue();
      Delivered delivered = readBack();

      // nothing lost; a copy is possible only of a window whose send failed (the broker may have
      // written it before the failure was reported), never of one that went through first time
      assertThat(delivered.copies().keySet()).containsExactlyInAnyOrderElementsOf(
          LongStream.range(0, 4_000).boxed().toList());
      assertThat(delivered.duplicates()).isLessThanOrEqualTo(spool.failedSends());
      assertThat(spool.dropped()).isZero();
    }
  }

  @Test
  void aRestartedCollectorSendsWhatThePreviousOneLeftInTheSpool() throws Exception {
    long leftBehind;
    try (SpoolingPublisher first = spool(new Properties()); WindowStream stream = new WindowStream(first)) {
      stream.continueTo(500);
      stream.awaitPublished(500);
      assertThat(first.awaitDelivered(DELIVERY)).isTrue();
      stopBroker();
      stream.continueTo(2_000);
      stream.awaitPublished(2_000);
      leftBehind = first.pending();
    }
    assertThat(leftBehind).isEqualTo(1_500);

    restartBroker();
    try (SpoolingPublisher second = spool(new Properties())) {
      assertThat(second.pending()).isEqualTo(1_500);
      assertThat(second.awaitDelivered(DELIVERY)).as("all acknowledged").isTrue();
      assertThat(second.sent()).isEqualTo(1_500);
    }
    Delivered delivered = readBack();
    assertEveryWindowOnce(delivered, 2_000);
    assertInOrderPerPartition(delivered);
  }
}
