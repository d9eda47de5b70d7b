package dev.stallwatch.incidents.store;

import dev.stallwatch.schemas.DeadLetterHeaders;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the incident store from the alerts topic: consumes {@link DeadlockAlert}s (Avro single
 * object encoding), writes each poll's alerts in one transaction, and commits the Kafka offsets
 * only after that transaction committed. A crash anywhere in between consumes the batch again,
 * and the store's upsert by incident ID makes the second write a no-op: at-least-once delivery,
 * exactly-once effect. Reads with {@code read_committed}, so only alerts of committed Flink
 * checkpoints arrive.
 *
 * <p>Why a Kafka consumer in the incident service, not Flink's JDBC sink in the detection job:
 * <ul>
 *   <li>The store belongs to the incident service: its schema, migrations, merge rules (a
 *       RESOLVED is never re-opened) and read-only role change with the query side, and the job
 *       stays free of PostgreSQL (nothing in {@code jobs/} knows about the store).
 *   <li>A slow or absent database must not hold up detection. In the job, a JDBC sink
 *       back-pressures the detector and fails its checkpoints, which delays the alert topic and
 *       so the pages. Here the database being down only delays the history: alerts keep flowing
 *       to the pagers, and this consumer catches up from its committed offsets.
 *   <li>A new or rebuilt store is filled by replaying the alerts topic with a fresh consumer
 *       group, without running the detector again.
 *   <li>The upsert makes at-least-once enough; the JDBC sink's exactly-once mode would need XA
 *       and {@code max_prepared_transactions} on the server for no gain.
 * </ul>
 *
 * <p>A record that is not a decodable alert, or that the database refuses as data (SQLSTATE
 * class 22/23, e.g. a NUL character in a string), goes to the dead-letter topic with the error
 * in a header, as the job does with its inputs, and is committed past: one bad record never
 * stops the history. A database that is unreachable is retried with backoff (continuous mode)
 * or reported ({@link #drainToEnd}); the offsets stay where they were in both cases.
 *
 * <p>Two ways to run: {@link #run()} until {@link #close()} (for {@code stallwatch serve}), and
 * {@link #drainToEnd(Duration)}: up to the end offsets as of the call, then return (for the
 * bounded demo). Not thread-safe apart from {@link #close()}, {@link #stats()} and {@link #lagRecords()}.
 */
public final class IncidentIngestor implements AutoCloseable {
  public static final String DEFAULT_GROUP_ID = "stallwatch-incidents";

  // the same headers as the detection job's dead letters (jobs' DeadLetterSerializer)
  public static final String ERROR_HEADER = DeadLetterHeaders.ERROR;
  public static final String SOURCE_TOPIC_HEADER = DeadLetterHeaders.SOURCE_TOPIC;
  public static final String SOURCE_PARTITION_HEADER = DeadLetterHeaders.SOURCE_PARTITION;
  public static final String SOURCE_OFFSET_HEADER = DeadLetterHeaders.SOURCE_OFFSET;
  public static final String SOURCE_TIMESTAMP_HEADER = DeadLetterHeaders.SOURCE_TIMESTAMP;

  private static final Logger LOG = LoggerFactory.getLogger(IncidentIngestor.class);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
  private static final Duration DEAD_LETTER_SEND_TIMEOUT = Duration.ofSeconds(30);

  private final Builder b;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch closeSignal = new CountDownLatch(1);
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong unchanged = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicReference<OptionalLong> lag = new AtomicReference<>(OptionalLong.empty());
  private volatile KafkaConsumer<byte[], byte[]> activeConsumer;
  private volatile CountDownLatch running;
  private KafkaProducer<byte[], byte[]> deadLetterProducer;

  private IncidentIngestor(Builder b) {
    this.b = b;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Consumes as a member of the consumer group until {@link #close()}; store outages are retried
   * with backoff. Returns normally once closed.
   */
  public void run() {
    try (KafkaConsumer<byte[], byte[]> consumer = start()) {
      consumer.subscribe(List.of(b.topic));
      Duration backoff = b.initialBackoff;
      while (!closed.get()) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(b.pollTimeout);
        if (batch.isEmpty()) {
          lag.set(ConsumerLag.of(consumer));
          continue;
        }
        try {
          process(consumer, batch);
          backoff = b.initialBackoff;
        } catch (CommitFailedException | RebalanceInProgressException e) {
          // the partitions moved to another member while we stored the batch; it consumes the
          // batch again from the last commit, and the upsert makes the second write a no-op
          LOG.warn("offsets not committed after a rebalance; the new owner re-reads them: {}", e.getMessage());
        } catch (IncidentStoreException | DeadLetterException e) {
          failedAttempts.incrementAndGet();
          LOG.warn("could not store {} alert record(s), offsets not committed; consuming them again in {} ms: {}",
              batch.count(), backoff.toMillis(), e.getMessage());
          rewind(consumer, batch);
          lag.set(ConsumerLag.of(consumer));
          if (awaitClose(backoff)) {
            break;
          }
          backoff = min(backoff.multipliedBy(2), b.maxBackoff);
        }
      }
    } catch (WakeupException e) {
      if (!closed.get()) {
        throw e;
      }
      // close() woke the consumer: a clean stop
    } finally {
      finish();
    }
  }

  /**
   * Consumes from the group's committed offsets (or the beginning) up to the end offsets as of
   * this call, then returns. Run it only while no {@link #run()} of the same group is active.
   *
   * @return {@link #stats()}: this ingestor's counts so far
   * @throws IncidentStoreException when the store cannot be written; the offsets of the failed
   *     batch are not committed, so the next drain or run consumes it again
   */
  public IngestStats drainToEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = start()) {
      List<TopicPartition> partitions = consumer.partitionsFor(b.topic, timeout).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .toList();
      consumer.assign(partitions);
      // with read_committed these are the last stable offsets: what a bounded reader can reach
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      while (!reachedEnd(consumer, end)) {
        if (closed.get()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s draining " + b.topic
              + " up to offsets " + end);
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(b.pollTimeout);
        if (!batch.isEmpty()) {
          process(consumer, batch);
        }
      }
      lag.set(ConsumerLag.of(consumer));
      return stats();
    } catch (DeadLetterException e) {
      throw new IllegalStateException(e.getMessage(), e);
    } catch (WakeupException e) {
      if (!closed.get()) {
        throw e;
      }
      return stats();
    } finally {
      finish();
    }
  }

  public IngestStats stats() {
    return new IngestStats(records.get(), written.get(), unchanged.get(), deadLettered.get(), failedAttempts.get(),
        commits.get());
  }

  /**
   * Records between this consumer's position and the end of its partitions, as of its last poll;
   * empty before it has a partition and a fetch from it. See {@link ConsumerLag}.
   */
  public OptionalLong lagRecords() {
    return lag.get();
  }

  /** Stops {@link #run()} or {@link #drainToEnd} and waits for it to let go of its clients. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeSignal.countDown();
      KafkaConsumer<byte[], byte[]> consumer = activeConsumer;
      if (consumer != null) {
        consumer.wakeup();
      }
    }
    CountDownLatch latch = running;
    if (latch != null) {
      try {
        if (!latch.await(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("the incident ingestor did not stop within {} s", CLOSE_WAIT.toSeconds());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private KafkaConsumer<byte[], byte[]> start() {
    if (closed.get()) {
      throw new IllegalStateException("the incident ingestor is closed");
    }
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    running = new CountDownLatch(1);
    activeConsumer = consumer;
    return consumer;
  }

  private void finish() {
    activeConsumer = null;
    if (deadLetterProducer != null) {
      deadLetterProducer.close(Duration.ofSeconds(5));
      deadLetterProducer = null;
    }
    CountDownLatch latch = running;
    if (latch != null) {
      latch.countDown();
    }
  }

  /** Stores one poll's alerts, dead-letters the bad records, then commits: in that order. */
  private void process(KafkaConsumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> batch) {
    List<DeadlockAlert> alerts = new ArrayList<>();
    List<ConsumerRecord<byte[], byte[]>> alertRecords = new ArrayList<>();
    List<DeadLetter> letters = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record : batch) {
      try {
        if (record.value() == null) {
          throw new IOException("record has no value");
        }
        alerts.add(DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value())));
        alertRecords.add(record);
      } catch (IOException | RuntimeException e) {
        LOG.warn("undecodable alert at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.toString());
        letters.add(new DeadLetter(record, "undecodable alert: " + e));
      }
    }
    List<WriteOutcome> outcomes = writeOrSeparateRejects(alerts, alertRecords, letters);
    sendDeadLetters(letters);
    consumer.commitSync(nextOffsets(batch));
    commits.incrementAndGet();
    records.addAndGet(batch.count());
    deadLettered.addAndGet(letters.size());
    for (WriteOutcome outcome : outcomes) {
      (outcome == WriteOutcome.UNCHANGED ? unchanged : written).incrementAndGet();
    }
    lag.set(ConsumerLag.of(consumer));
  }

  /**
   * Writes the alerts in one transaction. If the database refuses the data, writes them one by
   * one instead so that only the refused ones become dead letters.
   */
  private List<WriteOutcome> writeOrSeparateRejects(List<DeadlockAlert> alerts,
                                                    List<ConsumerRecord<byte[], byte[]>> alertRecords,
                                                    List<DeadLetter> letters) {
    try {
      return b.store.write(alerts);
    } catch (IncidentStoreException e) {
      if (!e.rejected()) {
        throw e;
      }
    }
    List<WriteOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < alerts.size(); i++) {
      try {
        outcomes.add(b.store.write(alerts.get(i)));
      } catch (IncidentStoreException e) {
        if (!e.rejected()) {
          throw e;
        }
        ConsumerRecord<byte[], byte[]> record = alertRecords.get(i);
        LOG.warn("the incident store refused the alert at {}-{}@{}: {}", record.topic(), record.partition(),
            record.offset(), e.getMessage());
        letters.add(new DeadLetter(record, "refused by the incident store: " + e.getMessage()));
      }
    }
    return outcomes;
  }

  private void sendDeadLetters(List<DeadLetter> letters) {
    if (letters.isEmpty()) {
      return;
    }
    if (deadLetterProducer == null) {
      deadLetterProducer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(),
          new ByteArraySerializer());
    }
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    try {
      for (DeadLetter letter : letters) {
        sends.add(deadLetterProducer.send(letter.toProducerRecord(b.deadLetterTopic)));
      }
      for (Future<RecordMetadata> send : sends) {
        send.get(DEAD_LETTER_SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeadLetterException("interrupted while sending dead letters to " + b.deadLetterTopic, e);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      throw new DeadLetterException("could not send " + letters.size() + " dead letter(s) to " + b.deadLetterTopic
          + ": " + (e instanceof ExecutionException ? e.getCause() : e), e);
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> batch) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition partition : batch.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> records = batch.records(partition);
      ConsumerRecord<byte[], byte[]> last = records.get(records.size() - 1);
      offsets.put(partition, new OffsetAndMetadata(last.offset() + 1, last.leaderEpoch(), ""));
    }
    return offsets;
  }

  /** Puts the consumer back on the first record of the failed batch, so the next poll re-reads it. */
  private static void rewind(KafkaConsumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> batch) {
    for (TopicPartition partition : batch.partitions()) {
      if (consumer.assignment().contains(partition)) {
        consumer.seek(partition, batch.records(partition).get(0).offset());
      }
    }
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Waits for the backoff; true when {@link #close()} was called meanwhile. */
  private boolean awaitClose(Duration backoff) {
    try {
      return closeSignal.await(backoff.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private Properties consumerProperties() {
    Properties props = new Properties();
    props.putAll(b.kafkaProperties);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, b.groupId);
    // a new group (or a new store) reads the whole history; the upsert makes that safe
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    enforce(props, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
        "offsets are committed only after the incident is stored");
    enforce(props, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        "only alerts of committed Flink checkpoints are incidents");
    return props;
  }

  private Properties producerProperties() {
    Properties props = new Properties();
    props.putAll(b.kafkaProperties);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
    props.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    props.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // a missing dead-letter topic fails the batch in seconds (and it is retried), not in a minute
    props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    return props;
  }

  private static void enforce(Properties props, String key, String value, String why) {
    Object given = props.put(key, value);
    if (given != null && !value.equals(String.valueOf(given))) {
      LOG.warn("incident ingestor: overriding {}={} with {}: {}", key, given, value, why);
    }
  }

  /** A record that cannot become a row, with where it came from and why. */
  private record DeadLetter(ConsumerRecord<byte[], byte[]> record, String error) {
    ProducerRecord<byte[], byte[]> toProducerRecord(String topic) {
      List<Header> headers = List.of(
          header(ERROR_HEADER, error),
          header(SOURCE_TOPIC_HEADER, record.topic()),
          header(SOURCE_PARTITION_HEADER, String.valueOf(record.partition())),
          header(SOURCE_OFFSET_HEADER, String.valueOf(record.offset())),
          header(SOURCE_TIMESTAMP_HEADER, String.valueOf(record.timestamp())));
      return new ProducerRecord<>(topic, null, null, record.key(), record.value(), headers);
    }

    private static Header header(String name, String value) {
      return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The dead-letter topic did not take a record: the batch is not committed. */
  private static final class DeadLetterException extends RuntimeException {
    DeadLetterException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Configures an {@link IncidentIngestor}; setters check their argument at once. */
  public static final class Builder {
    private String bootstrapServers;
    private String topic = Topics.DEFAULT_ALERTS;
    private String deadLetterTopic = Topics.DEFAULT_DEAD_LETTER;
    private String groupId = DEFAULT_GROUP_ID;
    private Properties kafkaProperties = new Properties();
    private IncidentStore store;
    private Duration pollTimeout = Duration.ofMillis(500);
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(30);

    private Builder() {}

    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The alerts and dead-letter topics of {@code topics}. */
    public Builder topics(Topics topics) {
      Objects.requireNonNull(topics, "topics");
      this.topic = topics.alerts();
      this.deadLetterTopic = topics.deadLetter();
      return this;
    }

    public Builder groupId(String groupId) {
      this.groupId = Objects.requireNonNull(groupId, "groupId");
      return this;
    }

    /** Client settings (security, timeouts); auto-commit and the isolation level are the ingestor's. */
    public Builder kafkaProperties(Properties kafkaProperties) {
      this.kafkaProperties = new Properties();
      this.kafkaProperties.putAll(Objects.requireNonNull(kafkaProperties, "kafkaProperties"));
      return this;
    }

    public Builder store(IncidentStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = positive(pollTimeout, "pollTimeout");
      return this;
    }

    /** How long to wait before consuming a failed batch again; doubles up to {@code max}. */
    public Builder retryBackoff(Duration initial, Duration max) {
      this.initialBackoff = positive(initial, "initial backoff");
      this.maxBackoff = positive(max, "max backoff");
      return this;
    }

    public IncidentIngestor build() {
      if (bootstrapServers == null) {
        throw new IllegalStateException("the incident ingestor needs Kafka: set bootstrapServers(...)");
      }
      if (store == null) {
        throw new IllegalStateException("the incident ingestor needs a store: set store(database.store())");
      }
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalStateException("max backoff " + maxBackoff + " is below the initial backoff " + initialBackoff);
      }
      if (topic.equals(deadLetterTopic)) {
        throw new IllegalStateException("the alerts topic and the dead-letter topic are both " + topic);
      }
      return new IncidentIngestor(this);
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
