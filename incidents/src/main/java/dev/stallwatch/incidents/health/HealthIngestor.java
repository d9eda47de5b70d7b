package dev.stallwatch.incidents.health;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stallwatch.incidents.store.CommittingConsumer;
import dev.stallwatch.incidents.store.CommittingConsumer.Row;
import dev.stallwatch.incidents.store.ConsumerLag;
import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ContainerHealth;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds {@code container_health} from the container-health topic: consumes
 * {@link ContainerHealth} (protobuf), upserts each poll's windows in one transaction through
 * {@link HealthStore}, and commits the Kafka offsets only after that transaction committed. A
 * crash in between consumes the batch again and the upsert replaces the same rows. Reads with
 * {@code read_committed}: only windows of committed Flink checkpoints arrive. The same design
 * as the alerts' {@code IncidentIngestor}, for the same reasons (the job stays free of
 * PostgreSQL, a slow database delays only the history), and the same Kafka side:
 * {@link CommittingConsumer}.
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
  private static final String NAME = "container health ingestor";

  private final HealthStore store;
  private final HealthRetention retention;
  private final Clock clock;
  private final CommittingConsumer consumer;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong expired = new AtomicLong();
  private final AtomicLong partitionsDropped = new AtomicLong();
  private final AtomicReference<Instant> newest = new AtomicReference<>();
  private boolean newestLoaded;
  /** The first day the last successful prune kept; the next prune is due when that day moves. */
  private LocalDate prunedUpTo;

  private HealthIngestor(Builder b) {
    this.store = b.store;
    this.retention = b.retention;
    this.clock = b.clock;
    this.consumer = new CommittingConsumer(b, NAME, "container health", LOG, this::store);
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
  public HealthIngestStats drainToEnd(Duration timeout) {
    consumer.drainToEnd(timeout);
    return stats();
  }

  public HealthIngestStats stats() {
    return new HealthIngestStats(written.get(), consumer.deadLettered(), expired.get(), consumer.failedAttempts(),
        consumer.batches(), partitionsDropped.get());
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
    return consumer.lagRecords();
  }

  public HealthRetention retention() {
    return retention;
  }

  /** The topic this ingestor consumes. */
  public String topic() {
    return consumer.topic();
  }

  /** Stops {@link #run()} or {@link #drainToEnd} and waits for it to let go of its clients. */
  @Override
  public void close() {
    consumer.close();
  }

  /** Stores one poll's windows; after the commit, counts them and prunes. */
  private Runnable store(CommittingConsumer.Batch batch) {
    Instant newestBefore = loadNewest();
    List<Row<ContainerHealth>> windows = new ArrayList<>();
    Instant latestAllowed = clock.instant().plus(MAX_CLOCK_SKEW);
    for (ConsumerRecord<byte[], byte[]> record : batch.records()) {
      decode(record, latestAllowed, windows, batch);
    }
    Instant newestAfter = newestBefore;
    for (Row<ContainerHealth> w : windows) {
      Instant end = end(w.value());
      newestAfter = newestAfter == null || end.isAfter(newestAfter) ? end : newestAfter;
    }
    Instant newestKnown = newestAfter;
    List<Row<ContainerHealth>> fresh = windows.stream()
        .filter(w -> retention.keeps(end(w.value()), newestKnown))
        .toList();
    int expiredNow = windows.size() - fresh.size();
    if (expiredNow > 0) {
      LOG.info("skipped {} container health window(s) ending before {}: older than the retention of {} "
          + "counted back from the newest window, {}", expiredNow, retention.cutoff(newestAfter),
          retention.keep(), newestAfter);
    }
    int writtenNow = batch.writeOrSeparateRejects(fresh, rows -> {
      store.write(rows);
      return rows;
    }).size();
    return () -> {
      written.addAndGet(writtenNow);
      expired.addAndGet(expiredNow);
      newest.set(newestKnown);
      if (newestKnown != null) {
        pruneIfDue(retention.firstKeptDay(newestKnown));
      }
    };
  }

  /** The newest window the table holds, read once: retention counts from it across restarts. */
  private Instant loadNewest() {
    if (!newestLoaded) {
      newest.set(store.newestWindowEnd().orElse(null));
      newestLoaded = true;
    }
    return newest.get();
  }

  private static Instant end(ContainerHealth health) {
    return Instant.ofEpochMilli(health.getWindowEndMs());
  }

  private static void decode(ConsumerRecord<byte[], byte[]> record, Instant latestAllowed,
                             List<Row<ContainerHealth>> windows, CommittingConsumer.Batch batch) {
    String error;
    if (record.value() == null) {
      error = "undecodable container health: record has no value";
    } else {
      try {
        ContainerHealth health = ContainerHealth.parseFrom(record.value());
        Optional<String> problem = HealthValidator.problem(health);
        Instant end = end(health);
        if (problem.isEmpty() && end.isAfter(latestAllowed)) {
          problem = Optional.of("window_end " + end + " is more than " + MAX_CLOCK_SKEW.toMinutes()
              + " min ahead of this server's clock, and would move the retention past every real window");
        }
        if (problem.isEmpty()) {
          windows.add(new Row<>(record, health));
          return;
        }
        error = "malformed container health: " + problem.get();
      } catch (InvalidProtocolBufferException e) {
        error = "undecodable container health: " + e.getMessage();
      }
    }
    batch.deadLetter(record, error);
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
      partitionsDropped.addAndGet(store.pruneBefore(HealthPartitions.start(firstKept)).size());
      prunedUpTo = firstKept;
    } catch (IncidentStoreException e) {
      LOG.warn("could not drop the container health partitions before {}; trying again after the next batch: {}",
          firstKept, e.getMessage());
    }
  }

  /** Configures a {@link HealthIngestor}; setters check their argument at once. */
  public static final class Builder extends CommittingConsumer.Settings<Builder> {
    private HealthStore store;
    private HealthRetention retention = new HealthRetention(DEFAULT_RETENTION);
    private Clock clock = Clock.systemUTC();

    private Builder() {
      super(Topics.DEFAULT_CONTAINER_HEALTH, DEFAULT_GROUP_ID);
    }

    /** The container-health and dead-letter topics of {@code topics}. */
    public Builder topics(Topics topics) {
      Objects.requireNonNull(topics, "topics");
      return consume(topics.containerHealth(), topics.deadLetter());
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

    public HealthIngestor build() {
      check(NAME, "container-health");
      if (store == null) {
        throw new IllegalStateException(
            "the container health ingestor needs a store: set store(new HealthStore(database.dataSource()))");
      }
      return new HealthIngestor(this);
    }
  }
}
