package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to Kafka through a bounded on-disk spool, so that no window is lost while Kafka is
 * unreachable or the collector restarts.
 *
 * <p>Every event is first appended to the spool ({@link SpoolLog}); {@code publish} never waits for
 * Kafka. One sender thread hands the events to an idempotent Kafka producer in spool order,
 * with at most {@code maxInFlight} unacknowledged at a time, and moves the spool's commit position
 * past each event once Kafka acknowledged it and everything before it. While Kafka is away, the
 * producer keeps retrying what it holds and the rest waits on disk; when the spool is full, its
 * oldest segments are dropped, counted and logged. A restarted collector sends whatever the
 * previous one left uncommitted.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>No loss while the spool has room, across Kafka outages of any length and across restarts
 *       of the collector.
 *   <li>Exactly once and in order per container while the producer survives the outage: by
 *       default the producer does not time records out ({@code delivery.timeout.ms} is unbounded),
 *       so it retries with the same producer ID and sequence numbers and the broker drops the
 *       copies it already has.
 *   <li>Otherwise at least once: an event whose send failed (a {@code delivery.timeout.ms} set by
 *       the user expired, {@code max.block.ms} passed without metadata, the producer was replaced
 *       after a fatal error) is sent again, in spool order, and if the broker had in fact written
 *       the first attempt, it is there twice. So are events Kafka had acknowledged in the last
 *       second before a crash, whose commit was not saved yet. The detector keeps one profile
 *       window per host and one upstream window per source, so such a copy replaces the first.
 * </ul>
 */
public final class SpoolingPublisher implements EventSink {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolingPublisher.class);
  public static final long DEFAULT_MAX_BYTES = 256L * 1024 * 1024;
  public static final int DEFAULT_MAX_IN_FLIGHT = 1000;
  /** Half the producer's default buffer.memory: a send never waits for buffer space. */
  private static final long MAX_IN_FLIGHT_BYTES = 16L * 1024 * 1024;
  private static final long CHECKPOINT_INTERVAL_MS = 1000;
  private static final long IDLE_WAIT_MS = 200;
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5000;

  private final SpoolLog log;
  private final Topics topics;
  private final Properties producerProperties;
  private final int maxInFlight;
  private final Duration closeTimeout;
  private final SpoolMetrics metrics;
  private final Thread sender;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // guarded by lock
  private Producer<String, byte[]> producer;
  private final TreeMap<Long, InFlight> inFlight = new TreeMap<>();
  private int failedInFlight;
  private long inFlightBytes;
  private boolean replaceProducer;
  private boolean stopping;
  private boolean closed;
  private long appends;
  private long backoffMs;
  private long retryAtNanos;
  private boolean outage;

  private SpoolingPublisher(Builder b, SpoolLog log) {
    this.log = log;
    this.topics = b.topics;
    this.producerProperties = producerProperties(b.bootstrapServers, b.kafkaProperties);
    this.maxInFlight = b.maxInFlight;
    this.closeTimeout = b.closeTimeout;
    this.metrics = new SpoolMetrics(b.registry, log::bytes, this::pending);
    this.producer = new KafkaProducer<>(producerProperties, new StringSerializer(), new ByteArraySerializer());
    this.sender = new Thread(this::runSender, "stallwatch-spool-sender");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The producer settings: those of {@link EventPublisher} (idempotent, acks=all, lz4, key = container
   * ID), with retries that do not expire, since the spool bounds what waits; {@code overrides}
   * (the user's {@code --kafka-config}) win.
   */
  static Properties producerProperties(String bootstrapServers, Properties overrides) {
    Properties spooling = new Properties();
    spooling.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(Integer.MAX_VALUE));
    // a send waiting for metadata holds the sender thread: fail it soon and retry from the spool
    spooling.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
    spooling.putAll(overrides);
    return EventPublisher.producerProperties(bootstrapServers, spooling);
  }

  @Override
  public void publish(ProfileWindow window) {
    append(SpoolRecord.of(window));
  }

  @Override
  public void publish(UpstreamWindow window) {
    append(SpoolRecord.of(window));
  }

  @Override
  public void publish(TrafficEvent event) {
    append(SpoolRecord.of(event));
  }

  @Override
  public void publish(WindowManifest manifest) {
    append(SpoolRecord.of(manifest));
  }

  private void append(SpoolRecord record) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("the spool in " + log.dir() + " is closed");
      }
    } finally {
      lock.unlock();
    }
    long dropped;
    try {
      dropped = log.append(record);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to the spool in " + log.dir() + ": " + e.getMessage(), e);
    }
    if (dropped < 0) {
      metrics.dropped.labelValues("rejected").inc();
      LOG.error("a {} event for {} of {} bytes is too large for the spool in {}; dropped", record.kind(),
          record.key(), record.value().length, log.dir());
    } else if (dropped > 0) {
      metrics.dropped.labelValues("full").inc(dropped);
      LOG.warn("spool {} is full ({} bytes): dropped its {} oldest unsent windows", log.dir(), log.bytes(), dropped);
    }
    lock.lock();
    try {
      appends++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Forces what was published so far to the spool's device: it is then safe from a crash of the host. */
  @Override
  public void flush() {
    try {
      log.checkpoint();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync the spool in " + log.dir() + ": " + e.getMessage(), e);
    }
  }

  /** Waits until Kafka has acknowledged everything published so far; false if {@code timeout} passed first. */
  public boolean awaitDelivered(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (pendingLocked() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        changed.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Events published and not yet acknowledged by Kafka. */
  public long pending() {
    lock.lock();
    try {
      return pendingLocked();
    } finally {
      lock.unlock();
    }
  }

  public long spoolBytes() {
    return log.bytes();
  }

  public long sent() {
    return (long) metrics.sent.get();
  }

  public long failedSends() {
    return (long) metrics.failedSends.get();
  }

  public long dropped() {
    return (long) (metrics.dropped.labelValues("full").get() + metrics.dropped.labelValues("rejected").get()
        + metrics.dropped.labelValues("corrupt").get());
  }

  /** With the producer (sent or to be sent again) plus not yet read from the spool. */
  private long pendingLocked() {
    return inFlight.size() + (log.nextSeq() - log.readSeq());
  }

  /** Every event before it is acknowledged: the oldest still in flight, else the next one to read. */
  private long commitPointLocked() {
    return inFlight.isEmpty() ? log.readSeq() : inFlight.firstKey();
  }

  // ---- the sender thread

  private static final class InFlight {
    final SpoolRecord record;
    boolean failed;

    InFlight(SpoolRecord record) {
      this.record = record;
    }
  }

  private void runSender() {
    long lastCheckpoint = System.nanoTime();
    while (true) {
      try {
        List<Map.Entry<Long, InFlight>> resend;
        long appendsSeen;
        lock.lock();
        try {
          if (stopping) {
            return;
          }
          log.acknowledge(commitPointLocked());
          resend = dueForResend();
          boolean full = inFlight.size() >= maxInFlight || inFlightBytes >= MAX_IN_FLIGHT_BYTES;
          if (resend == null && (failedInFlight > 0 || full)) {
            long waitNanos = failedInFlight > 0 ? Math.max(retryAtNanos - System.nanoTime(), 0) : 0;
            changed.awaitNanos(waitNanos > 0 ? waitNanos : TimeUnit.MILLISECONDS.toNanos(IDLE_WAIT_MS));
            continue;
          }
          appendsSeen = appends;
        } finally {
          lock.unlock();
        }
        long corrupt = log.takeDroppedCorrupt();
        if (corrupt > 0) {
          metrics.dropped.labelValues("corrupt").inc(corrupt);
        }
        if (System.nanoTime() - lastCheckpoint >= TimeUnit.MILLISECONDS.toNanos(CHECKPOINT_INTERVAL_MS)) {
          log.checkpoint();
          lastCheckpoint = System.nanoTime();
        }
        if (resend != null) {
          if (!replaceProducerIfNeeded()) {
            return;
          }
          for (Map.Entry<Long, InFlight> entry : resend) {
            send(entry.getKey(), entry.getValue().record);
          }
          continue;
        }
        SpoolLog.Entry next;
        lock.lock();
        try {
          // taking the entry off the log and counting it in flight is one step, so that
          // pending() never sees it in neither place
          next = log.next();
          if (next == null) {
            if (!stopping && appends == appendsSeen) {
              changed.await(IDLE_WAIT_MS, TimeUnit.MILLISECONDS);
            }
            continue;
          }
          inFlight.put(next.seq(), new InFlight(next.record()));
          inFlightBytes += next.record().value().length;
        } finally {
          lock.unlock();
        }
        send(next.seq(), next.record());
      } catch (InterruptedException e) {
        LOG.warn("spool sender interrupted; stopping it (the spool keeps what was not sent)");
        return;
      } catch (IOException | RuntimeException e) {
        // the spool cannot be read or saved: keep the thread (and what it holds) alive and try again
        LOG.error("spool sender in {} failed; trying again in {} ms", log.dir(), MAX_BACKOFF_MS, e);
        lock.lock();
        try {
          if (!stopping) {
            changed.await(MAX_BACKOFF_MS, TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException interrupted) {
          return;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * The failed events, in spool order, once they may be sent again: after the backoff, and once
   * no later event is still on its way (so the copies do not overtake it); when the producer is
   * to be replaced, once nothing is on its way at all. Null while none is due.
   */
  private List<Map.Entry<Long, InFlight>> dueForResend() {
    if (failedInFlight == 0 || System.nanoTime() < retryAtNanos) {
      return null;
    }
    long firstFailed = -1;
    for (var entry : inFlight.entrySet()) {
      if (entry.getValue().failed) {
        firstFailed = entry.getKey();
        break;
      }
    }
    for (var entry : inFlight.entrySet()) {
      boolean onItsWay = !entry.getValue().failed;
      if (onItsWay && (replaceProducer || entry.getKey() > firstFailed)) {
        return null;
      }
    }
    List<Map.Entry<Long, InFlight>> due = new ArrayList<>();
    for (var entry : inFlight.entrySet()) {
      if (entry.getValue().failed) {
        entry.getValue().failed = false;
        due.add(Map.entry(entry.getKey(), entry.getValue()));
      }
    }
    failedInFlight = 0;
    return due;
  }

  /** Replaces the producer after a fatal error; false when the publisher is stopping. */
  private boolean replaceProducerIfNeeded() {
    Producer<String, byte[]> old;
    lock.lock();
    try {
      if (stopping) {
        return false;
      }
      if (!replaceProducer) {
        return true;
      }
      replaceProducer = false;
      old = producer;
    } finally {
      lock.unlock();
    }
    old.close(Duration.ofSeconds(1));
    Producer<String, byte[]> fresh = new KafkaProducer<>(producerProperties, new StringSerializer(),
        new ByteArraySerializer());
    lock.lock();
    try {
      if (stopping) {
        fresh.close(Duration.ZERO);
        return false;
      }
      producer = fresh;
      LOG.info("spool {}: new Kafka producer after a fatal error", log.dir());
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void send(long seq, SpoolRecord record) {
    Producer<String, byte[]> current;
    lock.lock();
    try {
      current = producer;
    } finally {
      lock.unlock();
    }
    try {
      current.send(new ProducerRecord<>(topic(record.kind()), record.key(), record.value()),
          (metadata, error) -> completed(seq, error));
    } catch (KafkaException | IllegalStateException e) {
      // failed before it reached the producer's buffer: no metadata within max.block.ms, producer closed
      completed(seq, e);
    }
  }

  private String topic(SpoolRecord.Kind kind) {
    return switch (kind) {
      case PROFILE -> topics.profiles();
      case UPSTREAM -> topics.upstream();
      case TRAFFIC -> topics.traffic();
      case MANIFEST -> topics.completeness();
    };
  }

  private void completed(long seq, Exception error) {
    lock.lock();
    try {
      InFlight entry = inFlight.get(seq);
      if (entry == null || entry.failed) {
        return;
      }
      if (error == null) {
        inFlight.remove(seq);
        inFlightBytes -= entry.record.value().length;
        metrics.sent.inc();
        backoffMs = 0;
        if (outage) {
          outage = false;
          LOG.info("spool {}: Kafka acknowledges again; {} events still to send", log.dir(), pendingLocked());
        }
      } else if (stopping) {
        entry.failed = true; // closing: it stays in the spool for the next start
        failedInFlight++;
      } else if (rejectsRecordItself(error)) {
        inFlight.remove(seq);
        inFlightBytes -= entry.record.value().length;
        metrics.failedSends.inc();
        metrics.dropped.labelValues("rejected").inc();
        LOG.error("Kafka refused a {} event for {} ({}); dropped", entry.record.kind(), entry.record.key(),
            error.toString());
      } else {
        metrics.failedSends.inc();
        entry.failed = true;
        failedInFlight++;
        if (!(error instanceof RetriableException)) {
          replaceProducer = true;
        }
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, backoffMs * 2));
        retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
        if (!outage) {
          outage = true;
          LOG.warn("spool {}: sending to Kafka failed ({}); events wait in the spool and are sent again in order",
              log.dir(), error.toString());
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static boolean rejectsRecordItself(Exception error) {
    return error instanceof RecordTooLargeException || error instanceof RecordBatchTooLargeException
        || error instanceof InvalidRecordException;
  }

  /**
   * Waits up to the close timeout for Kafka to acknowledge everything, then stops. What Kafka has
   * not acknowledged stays in the spool and is sent by the next publisher on the same directory.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      lock.unlock();
    }
    boolean delivered;
    try {
      delivered = awaitDelivered(closeTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      delivered = false;
    }
    Producer<String, byte[]> current;
    lock.lock();
    try {
      stopping = true;
      current = producer;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    // aborts what is still in the producer; those events stay uncommitted in the spool
    current.close(Duration.ZERO);
    try {
      sender.join(closeTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long left;
    lock.lock();
    try {
      // unacknowledged events whose spool segment was dropped while they were with the producer
      long lost = inFlight.headMap(log.firstSeq()).size();
      if (lost > 0) {
        metrics.dropped.labelValues("full").inc(lost);
        LOG.warn("spool {}: {} events were neither acknowledged by Kafka nor still in the full spool; lost",
            log.dir(), lost);
      }
      log.acknowledge(commitPointLocked());
      left = pendingLocked();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot update the spool in " + log.dir() + ": " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
    try {
      log.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the spool in " + log.dir() + ": " + e.getMessage(), e);
    }
    if (!delivered) {
      LOG.warn("spool {}: {} events not acknowledged by Kafka within {}; they are sent on the next start",
          log.dir(), left, closeTimeout);
    }
  }

  /** Configures a {@link SpoolingPublisher}; {@link #build()} checks the whole. */
  public static final class Builder {
    private String bootstrapServers;
    private Topics topics = Topics.defaults();
    private Properties kafkaProperties = new Properties();
    private Path spoolDir;
    private long maxBytes = DEFAULT_MAX_BYTES;
    private long segmentBytes;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration closeTimeout = Duration.ofSeconds(10);
    private PrometheusRegistry registry;

    private Builder() {}

    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** Producer settings that win over the spool's (SASL, TLS, timeouts), e.g. from {@code --kafka-config}. */
    public Builder kafkaProperties(Properties properties) {
      this.kafkaProperties = (Properties) Objects.requireNonNull(properties, "kafkaProperties").clone();
      return this;
    }

    public Builder spoolDir(Path dir) {
      this.spoolDir = Objects.requireNonNull(dir, "spoolDir");
      return this;
    }

    /** The spool's bound on disk, 256 MiB by default. */
    public Builder maxBytes(long maxBytes) {
      this.maxBytes = maxBytes;
      return this;
    }

    /** The size of one segment file: the unit in which the oldest events are dropped; default maxBytes / 16. */
    public Builder segmentBytes(long segmentBytes) {
      this.segmentBytes = segmentBytes;
      return this;
    }

    /** Events handed to the producer and not yet acknowledged, at most (and at most 16 MiB of them). */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** How long {@link SpoolingPublisher#close()} waits for Kafka to acknowledge what is pending. */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = Objects.requireNonNull(timeout, "closeTimeout");
      return this;
    }

    /** Where the spool's metrics are registered; a private registry if not set. */
    public Builder registry(PrometheusRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Opens the spool (recovering what a previous run left) and starts sending. */
    public SpoolingPublisher build() {
      if (bootstrapServers == null || spoolDir == null) {
        throw new IllegalStateException("a spooling publisher needs bootstrapServers(...) and spoolDir(...)");
      }
      if (maxBytes < 64 * 1024) {
        throw new IllegalStateException("spool size must be at least 64 KiB, got " + maxBytes + " bytes");
      }
      if (maxInFlight < 1) {
        throw new IllegalStateException("maxInFlight must be at least 1, got " + maxInFlight);
      }
      if (registry == null) {
        registry = new PrometheusRegistry();
      }
      long segment = segmentBytes > 0 ? segmentBytes : maxBytes / 16;
      SpoolLog log;
      try {
        log = SpoolLog.open(spoolDir, maxBytes, segment);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open the spool in " + spoolDir + ": " + e.getMessage(), e);
      }
      try {
        return new SpoolingPublisher(this, log);
      } catch (RuntimeException e) {
        try {
          log.close();
        } catch (IOException closeFailure) {
          e.addSuppressed(closeFailure);
        }
        throw e;
      }
    }
  }
}
