package dev.stallwatch.incidents.store;

import dev.stallwatch.incidents.store.DeadLetters.DeadLetterException;
import dev.stallwatch.incidents.store.DeadLetters.Letter;
import dev.stallwatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;

/**
 * The Kafka side of an ingestor that feeds a table of the incident database from a topic
 * ({@link IncidentIngestor}: alerts, {@code HealthIngestor}: container health). Consumes with
 * {@code read_committed} and manual commits, hands each poll to a {@link BatchStore} that writes
 * it in one transaction, sends the records that cannot become a row to the dead-letter topic,
 * and commits the offsets only after that transaction committed and the broker has the dead
 * letters. A crash anywhere in between consumes the batch again, and the store's upsert makes
 * the second write a no-op: at-least-once delivery, exactly-once effect.
 *
 * <p>A database that is unreachable, or a dead-letter topic that does not take a record, is
 * retried with backoff ({@link #run()}) or reported ({@link #drainToEnd}); the offsets stay where
 * they were in both cases. A record the database refuses as data (SQLSTATE class 22/23) is only
 * a dead letter: see {@link Batch#writeOrSeparateRejects}.
 *
 * <p>Two ways to run: {@link #run()} until {@link #close()} (for {@code stallwatch serve}), and
 * {@link #drainToEnd(Duration)}: up to the end offsets as of the call, then return (for the
 * bounded demo). Not thread-safe apart from {@link #close()} and the read-outs (the counts and
 * {@link #lagRecords()}), which metrics read at scrape time.
 */
public final class CommittingConsumer implements AutoCloseable {
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

  private final String name;
  private final String what;
  private final Logger log;
  private final BatchStore store;
  private final String bootstrapServers;
  private final String topic;
  private final String deadLetterTopic;
  private final String groupId;
  private final Properties kafkaProperties;
  private final Duration pollTimeout;
  private final Duration initialBackoff;
  private final Duration maxBackoff;

  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch closeSignal = new CountDownLatch(1);
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicReference<OptionalLong> lag = new AtomicReference<>(OptionalLong.empty());
  private volatile KafkaConsumer<byte[], byte[]> activeConsumer;
  private volatile CountDownLatch running;
  private DeadLetters deadLetters;

  /**
   * @param settings checked by its builder ({@link Settings#check})
   * @param name what the log calls this ingestor, e.g. "incident ingestor"
   * @param what what the log calls one record, e.g. "alert"
   * @param log the ingestor's logger
   */
  public CommittingConsumer(Settings<?> settings, String name, String what, Logger log, BatchStore store) {
    this.name = Objects.requireNonNull(name, "name");
    this.what = Objects.requireNonNull(what, "what");
    this.log = Objects.requireNonNull(log, "log");
    this.store = Objects.requireNonNull(store, "store");
    this.bootstrapServers = settings.bootstrapServers;
    this.topic = settings.topic;
    this.deadLetterTopic = settings.deadLetterTopic;
    this.groupId = settings.groupId;
    this.kafkaProperties = new Properties();
    this.kafkaProperties.putAll(settings.kafkaProperties);
    this.pollTimeout = settings.pollTimeout;
    this.initialBackoff = settings.initialBackoff;
    this.maxBackoff = settings.maxBackoff;
  }

  /** What an ingestor does with one poll: decode its records and write their rows. */
  @FunctionalInterface
  public interface BatchStore {
    /**
     * Decodes the batch's records, writes their rows in one transaction (through
     * {@link Batch#writeOrSeparateRejects}) and hands the records that cannot become a row to
     * {@link Batch#deadLetter}. An {@link IncidentStoreException} (the store is unavailable)
     * leaves the offsets where they were: the batch is consumed again.
     *
     * @return what to do once the batch's dead letters are sent and its offsets committed: count
     *     it, tidy up. It must not throw: the batch is committed already.
     */
    Runnable store(Batch batch);
  }

  /** A decoded row and the record it came in, which becomes the dead letter if the store refuses the row. */
  public record Row<R>(ConsumerRecord<byte[], byte[]> record, R value) {}

  /** One poll's records on their way to the store, and the dead letters among them. */
  public final class Batch {
    private final ConsumerRecords<byte[], byte[]> records;
    private final List<Letter> letters = new ArrayList<>();

    private Batch(ConsumerRecords<byte[], byte[]> records) {
      this.records = records;
    }

    public Iterable<ConsumerRecord<byte[], byte[]>> records() {
      return records;
    }

    /** Logs {@code error} (one line: what is wrong with the record) and dead-letters the record with it. */
    public void deadLetter(ConsumerRecord<byte[], byte[]> record, String error) {
      log.warn("{} at {}-{}@{}", error, record.topic(), record.partition(), record.offset());
      letters.add(new Letter(record, error));
    }

    /**
     * Writes the rows in one transaction. If the database refuses the data, writes them one by
     * one instead so that only the refused ones become dead letters.
     *
     * @param write one transaction: the rows given, with a result for each
     * @return the results of the rows written
     */
    public <R, O> List<O> writeOrSeparateRejects(List<Row<R>> rows, Function<List<R>, List<O>> write) {
      try {
        return write.apply(rows.stream().map(Row::value).toList());
      } catch (IncidentStoreException e) {
        if (!e.rejected()) {
          throw e;
        }
      }
      List<O> results = new ArrayList<>();
      for (Row<R> row : rows) {
        try {
          results.addAll(write.apply(List.of(row.value())));
        } catch (IncidentStoreException e) {
          if (!e.rejected()) {
            throw e;
          }
          ConsumerRecord<byte[], byte[]> record = row.record();
          log.warn("the incident store refused the {} at {}-{}@{}: {}", what, record.topic(), record.partition(),
              record.offset(), e.getMessage());
          letters.add(new Letter(record, "refused by the incident store: " + e.getMessage()));
        }
      }
      return results;
    }
  }

  /**
   * Consumes as a member of the consumer group until {@link #close()}; store outages are retried
   * with backoff. Returns normally once closed.
   */
  public void run() {
    try (KafkaConsumer<byte[], byte[]> consumer = start()) {
      consumer.subscribe(List.of(topic));
      Duration backoff = initialBackoff;
      while (!closed.get()) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(pollTimeout);
        if (batch.isEmpty()) {
          lag.set(ConsumerLag.of(consumer));
          continue;
        }
        try {
          process(consumer, batch);
          backoff = initialBackoff;
        } catch (CommitFailedException | RebalanceInProgressException e) {
          // the partitions moved to another member while we stored the batch; it consumes the
          // batch again from the last commit, and the store's upsert makes the second write a no-op
          log.warn("offsets not committed after a rebalance; the new owner re-reads them: {}", e.getMessage());
        } catch (IncidentStoreException | DeadLetterException e) {
          failedAttempts.incrementAndGet();
          log.warn("could not store {} {} record(s), offsets not committed; consuming them again in {} ms: {}",
              batch.count(), what, backoff.toMillis(), e.getMessage());
          rewind(consumer, batch);
          lag.set(ConsumerLag.of(consumer));
          if (awaitClose(backoff)) {
            break;
          }
          backoff = min(backoff.multipliedBy(2), maxBackoff);
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
   * @throws IncidentStoreException when the store cannot be written; the offsets of the failed
   *     batch are not committed, so the next drain or run consumes it again
   */
  public void drainToEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = start()) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
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
          throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s draining " + topic
              + " up to offsets " + end);
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(pollTimeout);
        if (!batch.isEmpty()) {
          process(consumer, batch);
        }
      }
      lag.set(ConsumerLag.of(consumer));
    } catch (DeadLetterException e) {
      throw new IllegalStateException(e.getMessage(), e);
    } catch (WakeupException e) {
      if (!closed.get()) {
        throw e;
      }
    } finally {
      finish();
    }
  }

  /** The topic this consumes. */
  public String topic() {
    return topic;
  }

  /** Records consumed and committed, whatever became of them. */
  public long records() {
    return records.get();
  }

  /** Records sent to the dead-letter topic and committed: undecodable, malformed or refused by the database. */
  public long deadLettered() {
    return deadLettered.get();
  }

  /** Batches that failed and were consumed again (store or dead-letter topic unavailable). */
  public long failedAttempts() {
    return failedAttempts.get();
  }

  /** Polls stored, each in one transaction, and committed. */
  public long batches() {
    return batches.get();
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
          log.warn("the {} did not stop within {} s", name, CLOSE_WAIT.toSeconds());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private KafkaConsumer<byte[], byte[]> start() {
    if (closed.get()) {
      throw new IllegalStateException("the " + name + " is closed");
    }
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    deadLetters = new DeadLetters(deadLetterTopic, producerProperties());
    running = new CountDownLatch(1);
    activeConsumer = consumer;
    return consumer;
  }

  private void finish() {
    activeConsumer = null;
    if (deadLetters != null) {
      deadLetters.close();
      deadLetters = null;
    }
    CountDownLatch latch = running;
    if (latch != null) {
      latch.countDown();
    }
  }

  /** Stores one poll, dead-letters the bad records, commits, then counts: in that order. */
  private void process(KafkaConsumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> polled) {
    Batch batch = new Batch(polled);
    Runnable afterCommit = store.store(batch);
    deadLetters.send(batch.letters);
    consumer.commitSync(nextOffsets(polled));
    batches.incrementAndGet();
    records.addAndGet(polled.count());
    deadLettered.addAndGet(batch.letters.size());
    lag.set(ConsumerLag.of(consumer));
    afterCommit.run();
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
    props.putAll(kafkaProperties);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    // a new group (or a new store) reads what the topic still holds; the upsert makes that safe
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    enforce(props, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
        "offsets are committed only after the rows are stored");
    enforce(props, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        "only records of committed Flink checkpoints are stored");
    return props;
  }

  private Properties producerProperties() {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    props.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // a missing dead-letter topic fails the batch in seconds (and it is retried), not in a minute
    props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    return props;
  }

  private void enforce(Properties props, String key, String value, String why) {
    Object given = props.put(key, value);
    if (given != null && !value.equals(String.valueOf(given))) {
      log.warn("{}: overriding {}={} with {}: {}", name, key, given, value, why);
    }
  }

  /**
   * What every ingestor's builder sets: Kafka, the topics, the group, polling and retry. Setters
   * check their argument at once; {@link #check} the whole before building.
   *
   * @param <B> the ingestor's builder, which the setters return
   */
  public abstract static class Settings<B extends Settings<B>> {
    private String bootstrapServers;
    private String topic;
    private String deadLetterTopic = Topics.DEFAULT_DEAD_LETTER;
    private String groupId;
    private Properties kafkaProperties = new Properties();
    private Duration pollTimeout = Duration.ofMillis(500);
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(30);

    protected Settings(String topic, String groupId) {
      this.topic = Objects.requireNonNull(topic, "topic");
      this.groupId = Objects.requireNonNull(groupId, "groupId");
    }

    public B bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return self();
    }

    public B groupId(String groupId) {
      this.groupId = Objects.requireNonNull(groupId, "groupId");
      return self();
    }

    /** Client settings (security, timeouts); auto-commit and the isolation level are the ingestor's. */
    public B kafkaProperties(Properties kafkaProperties) {
      this.kafkaProperties = new Properties();
      this.kafkaProperties.putAll(Objects.requireNonNull(kafkaProperties, "kafkaProperties"));
      return self();
    }

    public B pollTimeout(Duration pollTimeout) {
      this.pollTimeout = positive(pollTimeout, "pollTimeout");
      return self();
    }

    /** How long to wait before consuming a failed batch again; doubles up to {@code max}. */
    public B retryBackoff(Duration initial, Duration max) {
      this.initialBackoff = positive(initial, "initial backoff");
      this.maxBackoff = positive(max, "max backoff");
      return self();
    }

    /** The topic to consume and the one its dead letters go to. */
    protected final B consume(String topic, String deadLetterTopic) {
      this.topic = Objects.requireNonNull(topic, "topic");
      this.deadLetterTopic = Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
      return self();
    }

    /**
     * Fails on what no ingestor can run without.
     *
     * @param name the ingestor, e.g. "incident ingestor"
     * @param topicName its topic, e.g. "alerts"
     */
    protected final void check(String name, String topicName) {
      if (bootstrapServers == null) {
        throw new IllegalStateException("the " + name + " needs Kafka: set bootstrapServers(...)");
      }
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalStateException("max backoff " + maxBackoff + " is below the initial backoff " + initialBackoff);
      }
      if (topic.equals(deadLetterTopic)) {
        throw new IllegalStateException("the " + topicName + " topic and the dead-letter topic are both " + topic);
      }
    }

    protected static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }

    @SuppressWarnings("unchecked")
    private B self() {
      return (B) this;
    }
  }
}
