package dev.stallwatch.incidents.health;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stallwatch.incidents.health.HealthDeadLetters.DeadLetterException;
import dev.stallwatch.incidents.health.HealthDeadLetters.Letter;
import dev.stallwatch.incidents.store.ConsumerLag;
import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ContainerHealth;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
import org.slf4j.LoggerFactory;

/**
 * Feeds {@code container_health} from the container-health topic: consumes
 * {@link ContainerHealth} (protobuf), upserts each poll's windows in one transaction through
 * {@link HealthStore}, and commits the Kafka offsets only after that transaction committed. A
 * crash in between consumes the batch again and the upsert replaces the same rows. Reads with
 * {@code read_committed}: only windows of committed Flink checkpoints arrive. The same design
 * as the alerts' {@code IncidentIngestor}, for the same reasons (the job stays free of
 * PostgreSQL, a slow database delays only the history).
 *
 * <p>Retention is by event time: it keeps the UTC days that overlap
 * {@code [newest window_end - retention, ∞)}, the newest being the newest ever stored (read
 * from the table at start). A replayed night of 2020 is kept while nothing newer arrives; a wall
 * clock would drop it on arrival. Windows that arrive already older than that are counted as
 * expired and not written, and whole days are dropped once the newest window moves past them.
 * Since one window far in the future would drop everything before it, a window ending more than
 * {@link #MAX_CLOCK_SKEW} ahead of this server's clock is a dead letter.
 *
 * <p>A record that is no decodable, well-formed window (see {@link HealthValidator}), or that the
 * database refuses as data, goes to the dead-letter topic with the error in a header and is
 * committed past: one bad record never stops the series. A database that is unreachable is
 * retried with backoff ({@link #run()}) or reported ({@link #drainToEnd}); the offsets stay where
 * they were in both cases.
 *
 * <p>Not thread-safe apart from {@link #close()} and the read-outs ({@link #stats()},
 * {@link #newestWindowEnd()}, {@link #lagRecords()}), which metrics read at scrape time.
 */
public final class HealthIngestor implements AutoCloseable {
  public static final String DEFAULT_GROUP_ID = "stallwatch-health-ingestor";
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(3);
  /** How far ahead of this server's clock a window may end: collectors' clocks drift, not by hours. */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofHours(1);

  private static final Logger LOG = LoggerFactory.getLogger(HealthIngestor.class);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

  private final Builder b;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch closeSignal = new CountDownLatch(1);
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong expired = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong partitionsDropped = new AtomicLong();
  private final AtomicReference<Instant> newest = new AtomicReference<>();
  private final AtomicReference<OptionalLong> lag = new AtomicReference<>(OptionalLong.empty());
  private boolean newestLoaded;
  /** The first day the last successful prune kept; the next prune is due when that day moves. */
  private LocalDate prunedUpTo;
  private volatile KafkaConsumer<byte[], byte[]> activeConsumer;
  private volatile CountDownLatch running;
  private HealthDeadLetters deadLetters;

  private HealthIngestor(Builder b) {
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
          // batch again from the last commit, and the upsert replaces the same rows
          LOG.warn("offsets not committed after a rebalance; the new owner re-reads them: {}", e.getMessage());
        } catch (IncidentStoreException | DeadLetterException e) {
          failedAttempts.incrementAndGet();
          LOG.warn("could not store {} container health record(s), offsets not committed; consuming them again "
              + "in {} ms: {}", batch.count(), backoff.toMillis(), e.getMessage());
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
  public HealthIngestStats drainToEnd(Duration timeout) {
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

  public HealthIngestStats stats() {
    return new HealthIngestStats(written.get(), deadLettered.get(), expired.get(), failedAttempts.get(),
        batches.get(), partitionsDropped.get());
  }

  /** The newest {@code window_end} stored, by anyone (read from the table at start); empty for an empty table. */
  public Optional<Instant> newestWindowEnd() {
    return Optional.ofNullable(newest.get());
  }

  /**
   * Records between this consumer's position and the end of its partitions, as of its last poll;
   * empty before it has a partition and a fetch from it. See {@link ConsumerLag}.
   */
  public OptionalLong lagRecords() {
    return lag.get();
  }

  public HealthRetention retention() {
    return b.retention;
  }

  /** The topic this ingestor consumes. */
  public String topic() {
    return b.topic;
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
          LOG.warn("the container health ingestor did not stop within {} s", CLOSE_WAIT.toSeconds());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private KafkaConsumer<byte[], byte[]> start() {
    if (closed.get()) {
      throw new IllegalStateException("the container health ingestor is closed");
    }
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    deadLetters = new HealthDeadLetters(b.deadLetterTopic, producerProperties());
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

  /** Stores one poll's windows, dead-letters the bad records, commits, then prunes: in that order. */
  private void process(KafkaConsumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> batch) {
    Instant newestBefore = loadNewest();
    List<Window> windows = new ArrayList<>();
    List<Letter> letters = new ArrayList<>();
    Instant latestAllowed = b.clock.instant().plus(MAX_CLOCK_SKEW);
    for (ConsumerRecord<byte[], byte[]> record : batch) {
      decode(record, latestAllowed, windows, letters);
    }
    Instant newestAfter = newestBefore;
    for (Window w : windows) {
      newestAfter = newestAfter == null || w.end().isAfter(newestAfter) ? w.end() : newestAfter;
    }
    Instant newestKnown = newestAfter;
    List<Window> fresh = windows.stream()
        .filter(w -> b.retention.keeps(w.end(), newestKnown))
        .toList();
    int expiredNow = windows.size() - fresh.size();
    if (expiredNow > 0) {
      LOG.info("skipped {} container health window(s) ending before {}: older than the retention of {} "
          + "counted back from the newest window, {}", expiredNow, b.retention.cutoff(newestAfter),
          b.retention.keep(), newestAfter);
    }
    int writtenNow = writeOrSeparateRejects(fresh, letters);
    deadLetters.send(letters);
    consumer.commitSync(nextOffsets(batch));
    batches.incrementAndGet();
    written.addAndGet(writtenNow);
    expired.addAndGet(expiredNow);
    deadLettered.addAndGet(letters.size());
    newest.set(newestAfter);
    lag.set(ConsumerLag.of(consumer));
    if (newestAfter != null) {
      pruneIfDue(b.retention.firstKeptDay(newestAfter));
    }
  }

  /** The newest window the table holds, read once: retention counts from it across restarts. */
  private Instant loadNewest() {
    if (!newestLoaded) {
      newest.set(b.store.newestWindowEnd().orElse(null));
      newestLoaded = true;
    }
    return newest.get();
  }

  private void decode(ConsumerRecord<byte[], byte[]> record, Instant latestAllowed, List<Window> windows,
                      List<Letter> letters) {
    String error;
    if (record.value() == null) {
      error = "undecodable container health: record has no value";
    } else {
      try {
        ContainerHealth health = ContainerHealth.parseFrom(record.value());
        Optional<String> problem = HealthValidator.problem(health);
        Instant end = Instant.ofEpochMilli(health.getWindowEndMs());
        if (problem.isEmpty() && end.isAfter(latestAllowed)) {
          problem = Optional.of("window_end " + end + " is more than " + MAX_CLOCK_SKEW.toMinutes()
              + " min ahead of this server's clock, and would move the retention past every real window");
        }
        if (problem.isEmpty()) {
          windows.add(new Window(record, health, end));
          return;
        }
        error = "malformed container health: " + problem.get();
      } catch (InvalidProtocolBufferException e) {
        error = "undecodable container health: " + e.getMessage();
      }
    }
    LOG.warn("{} at {}-{}@{}", error, record.topic(), record.partition(), record.offset());
    letters.add(new Letter(record, error));
  }

  /**
   * Writes the windows in one transaction. If the database refuses the data, writes them one by
   * one instead so that only the refused ones become dead letters.
   *
   * @return the windows written
   */
  private int writeOrSeparateRejects(List<Window> fresh, List<Letter> letters) {
    try {
      b.store.write(fresh.stream().map(Window::health).toList());
      return fresh.size();
    } catch (IncidentStoreException e) {
      if (!e.rejected()) {
        throw e;
      }
    }
    int writtenNow = 0;
    for (Window w : fresh) {
      try {
        b.store.write(List.of(w.health()));
        writtenNow++;
      } catch (IncidentStoreException e) {
        if (!e.rejected()) {
          throw e;
        }
        ConsumerRecord<byte[], byte[]> record = w.record();
        LOG.warn("the incident store refused the container health at {}-{}@{}: {}", record.topic(),
            record.partition(), record.offset(), e.getMessage());
        letters.add(new Letter(record, "refused by the incident store: " + e.getMessage()));
      }
    }
    return writtenNow;
  }

  /**
   * Drops the days before {@code firstKept} once per move of that day. A failed prune only logs:
   * the rows are committed, and the next batch tries again.
   */
  private void pruneIfDue(LocalDate firstKept) {
    if (prunedUpTo != null && !firstKept.isAfter(prunedUpTo)) {
      return;
    }
    try {
      partitionsDropped.addAndGet(b.store.pruneBefore(HealthPartitions.start(firstKept)).size());
      prunedUpTo = firstKept;
    } catch (IncidentStoreException e) {
      LOG.warn("could not drop the container health partitions before {}; trying again after the next batch: {}",
          firstKept, e.getMessage());
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
    // a new group (or a new store) reads what the topic still holds; the upsert makes that safe
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    enforce(props, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
        "offsets are committed only after the rows are stored");
    enforce(props, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        "only windows of committed Flink checkpoints are stored");
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
      LOG.warn("container health ingestor: overriding {}={} with {}: {}", key, given, value, why);
    }
  }

  /** A decoded, well-formed window and the record it came in. */
  private record Window(ConsumerRecord<byte[], byte[]> record, ContainerHealth health, Instant end) {}

  /** Configures a {@link HealthIngestor}; setters check their argument at once. */
  public static final class Builder {
    private String bootstrapServers;
    private String topic = Topics.DEFAULT_CONTAINER_HEALTH;
    private String deadLetterTopic = Topics.DEFAULT_DEAD_LETTER;
    private String groupId = DEFAULT_GROUP_ID;
    private Properties kafkaProperties = new Properties();
    private HealthStore store;
    private HealthRetention retention = new HealthRetention(DEFAULT_RETENTION);
    private Clock clock = Clock.systemUTC();
    private Duration pollTimeout = Duration.ofMillis(500);
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(30);

    private Builder() {}

    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The container-health and dead-letter topics of {@code topics}. */
    public Builder topics(Topics topics) {
      Objects.requireNonNull(topics, "topics");
      this.topic = topics.containerHealth();
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

    public Builder store(HealthStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** How much event time to keep, counted back from the newest window (default 3 days); whole UTC days go. */
    public Builder retention(Duration retention) {
      this.retention = new HealthRetention(positive(retention, "retention"));
      return this;
    }

    /** Only for the check of windows from the future ({@link #MAX_CLOCK_SKEW}); retention never reads it. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
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

    public HealthIngestor build() {
      if (bootstrapServers == null) {
        throw new IllegalStateException("the container health ingestor needs Kafka: set bootstrapServers(...)");
      }
      if (store == null) {
        throw new IllegalStateException(
            "the container health ingestor needs a store: set store(new HealthStore(database.dataSource()))");
      }
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalStateException("max backoff " + maxBackoff + " is below the initial backoff " + initialBackoff);
      }
      if (topic.equals(deadLetterTopic)) {
        throw new IllegalStateException("the container-health topic and the dead-letter topic are both " + topic);
      }
      return new HealthIngestor(this);
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
