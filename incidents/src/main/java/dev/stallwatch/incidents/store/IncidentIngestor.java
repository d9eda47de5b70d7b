package dev.stallwatch.incidents.store;

import dev.stallwatch.incidents.store.CommittingConsumer.Row;
import dev.stallwatch.schemas.DeadLetterHeaders;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
 * or reported ({@link #drainToEnd}); the offsets stay where they were in both cases. The Kafka
 * side of all this is {@link CommittingConsumer}'s, shared with the container health ingestor.
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
  private static final String NAME = "incident ingestor";

  private final IncidentStore store;
  private final AlertValidator validator;
  private final CommittingConsumer consumer;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong unchanged = new AtomicLong();

  private IncidentIngestor(Builder b) {
    this.store = b.store;
    this.validator = new AlertValidator(b.clock);
    this.consumer = new CommittingConsumer(b, NAME, "alert", LOG, this::store);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Consumes as a member of the consumer group until {@link #close()}; store outages are retried
   * with backoff. Returns normally once closed.
   */
  public void run() {
    consumer.run();
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
    consumer.drainToEnd(timeout);
    return stats();
  }

  public IngestStats stats() {
    return new IngestStats(consumer.records(), written.get(), unchanged.get(), consumer.deadLettered(),
        consumer.failedAttempts(), consumer.batches());
  }

  /**
   * Records between this consumer's position and the end of its partitions, as of its last poll;
   * empty before it has a partition and a fetch from it. See {@link ConsumerLag}.
   */
  public OptionalLong lagRecords() {
    return consumer.lagRecords();
  }

  /** Stops {@link #run()} or {@link #drainToEnd} and waits for it to let go of its clients. */
  @Override
  public void close() {
    consumer.close();
  }

  /** Stores one poll's alerts; the undecodable and invalid ones ({@link AlertValidator}) become dead letters. */
  private Runnable store(CommittingConsumer.Batch batch) {
    List<Row<DeadlockAlert>> alerts = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record : batch.records()) {
      try {
        if (record.value() == null) {
          throw new IOException("record has no value");
        }
        DeadlockAlert alert = DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
        String problem = validator.problem(alert);
        if (problem != null) {
          batch.deadLetter(record, "invalid alert: " + problem);
          continue;
        }
        alerts.add(new Row<>(record, alert));
      } catch (IOException | RuntimeException e) {
        batch.deadLetter(record, "undecodable alert: " + e);
      }
    }
    List<WriteOutcome> outcomes = batch.writeOrSeparateRejects(alerts, store::write);
    return () -> {
      for (WriteOutcome outcome : outcomes) {
        (outcome == WriteOutcome.UNCHANGED ? unchanged : written).incrementAndGet();
      }
    };
  }

  /** Configures an {@link IncidentIngestor}; setters check their argument at once. */
  public static final class Builder extends CommittingConsumer.Settings<Builder> {
    private IncidentStore store;
    private Clock clock = Clock.systemUTC();

    private Builder() {
      super(Topics.DEFAULT_ALERTS, DEFAULT_GROUP_ID);
    }

    /** The alerts and dead-letter topics of {@code topics}. */
    public Builder topics(Topics topics) {
      Objects.requireNonNull(topics, "topics");
      return consume(topics.alerts(), topics.deadLetter());
    }

    public Builder store(IncidentStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The clock that says which alert timestamps are in the future (tests). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public IncidentIngestor build() {
      check(NAME, "alerts");
      if (store == null) {
        throw new IllegalStateException("the incident ingestor needs a store: set store(database.store())");
      }
      return new IncidentIngestor(this);
    }
  }
}
