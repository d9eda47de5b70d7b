package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pages: consumes {@code stallwatch.alerts.v1} and delivers every alert event to each configured
 * receiver ({@link PagerDutyNotifier}, {@link AlertmanagerNotifier}, {@link WebhookNotifier}).
 *
 * <p>Each receiver has its own queue and thread ({@link ReceiverWorker}): a slow or failing
 * receiver never delays the others. A 429, a 5xx or a network error is retried with exponential
 * backoff and jitter ({@link RetryPolicy}); any other answer, or running out of retry time,
 * dead-letters the alert for that receiver to {@code stallwatch.deadletter.v1} with headers naming
 * the receiver and the status.
 *
 * <p>Delivery guarantee. The job writes alerts at least once (as soon as it raises them, no
 * checkpoint in between), so the same alert event, with the same incident ID, can come twice:
 * each receiver's worker asks the {@link DeliveryLog} first and does not send an event the
 * receiver already accepted ({@link JdbcDeliveryLog} in the store survives restarts). Alerts are
 * read {@code read_committed} (an exactly-once writer's aborted alerts are never paged) with
 * auto-commit off. An alert's offset is committed only once every receiver
 * accepted it or dead-lettered it, and it is committed as soon as that is true, not on a timer;
 * commits follow topic order, so a slow receiver holds back the commit (never the other
 * receivers' deliveries). Hence:
 * <ul>
 *   <li>a crash or kill before every receiver is through loses nothing: a restart resumes at the
 *       first unfinished alert and delivers it again;</li>
 *   <li>after a clean {@link #close()} (which waits up to {@code shutdownTimeout} for alerts in
 *       flight and commits them) or a {@link #drainToEnd} that returned, a restart resumes after
 *       the last alert and sends nothing again;</li>
 *   <li>only a crash between a receiver's 2xx and the commit, a window of milliseconds, or an
 *       alert held back by a slower receiver, sends an alert a second time. That repeat is
 *       harmless where it matters: PagerDuty folds a second {@code trigger} with the same
 *       {@code dedup_key} (the incident ID) into the alert already open, so it never pages twice;
 *       Alertmanager identifies alerts by their labels, incident ID included, so it is a refresh;
 *       a webhook receiver can drop it by {@code incidentId} and {@code eventType}.</li>
 * </ul>
 * Several notifiers in one consumer group share the partitions; the incident ID stays the dedup
 * key when partitions move between them.
 *
 * <p>Run modes: {@link #start()} consumes until {@link #close()}; {@link #drainToEnd} consumes up
 * to the end offsets as of its start, waits until all of it is delivered and committed, and
 * returns (the bounded demo). An instance runs once.
 */
public final class AlertNotifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertNotifier.class);

  public static final String DEFAULT_GROUP_ID = "stallwatch-notifier";
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_IN_FLIGHT = 1000;
  private static final AtomicLong INSTANCES = new AtomicLong();
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
  // the consumer settings the delivery guarantee rests on
  private static final Map<String, String> FIXED_CONSUMER_SETTINGS = Map.of(
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
      ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");

  private final String bootstrapServers;
  private final Topics topics;
  private final String groupId;
  private final List<Notifier> notifiers;
  private final RetryPolicy retry;
  private final Duration requestTimeout;
  private final Duration shutdownTimeout;
  private final int maxInFlight;
  private final NotifierMetrics metrics;
  private final DeliveryLog deliveryLog;
  private final Properties kafkaProperties;
  private final String autoOffsetReset;
  private final HttpClient http;

  private final AtomicBoolean used = new AtomicBoolean();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private volatile boolean closing;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private volatile Thread loopThread;

  /** What a {@link #drainToEnd} did: alert records read, deliveries per receiver, dead letters. */
  public record DrainResult(long alerts, Map<String, Long> delivered, long deadLettered) {}

  private AlertNotifier(Builder builder) {
    this.bootstrapServers = builder.bootstrapServers;
    this.topics = builder.topics;
    this.groupId = builder.groupId;
    this.notifiers = List.copyOf(builder.notifiers);
    this.retry = builder.retry;
    this.requestTimeout = builder.requestTimeout;
    this.shutdownTimeout = builder.shutdownTimeout;
    this.maxInFlight = builder.maxInFlight;
    this.metrics = builder.metrics != null ? builder.metrics : NotifierMetrics.register(new PrometheusRegistry());
    notifiers.forEach(notifier -> metrics.receiver(notifier.name()));
    this.deliveryLog = builder.deliveryLog != null ? builder.deliveryLog : new MemoryDeliveryLog();
    this.kafkaProperties = builder.kafkaProperties;
    this.autoOffsetReset = builder.autoOffsetReset;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(requestTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The receivers' names, in the order they were added. */
  public List<String> receivers() {
    return notifiers.stream().map(Notifier::name).toList();
  }

  public NotifierMetrics metrics() {
    return metrics;
  }

  /** Consumes in the background until {@link #close()}; see {@link #failure()} if it stops by itself. */
  public void start() {
    claim("start()");
    Thread thread = new Thread(() -> {
      try {
        run(false, Long.MAX_VALUE);
      } catch (InterruptedException e) {
        failure.compareAndSet(null, e);
        LOG.warn("notifier interrupted; alerts in flight are delivered again after a restart");
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
        LOG.error("notifier stopped: {}", e.toString(), e);
      }
    }, "stallwatch-notifier");
    loopThread = thread;
    thread.start();
  }

  /**
   * Delivers every alert up to the end offsets as of now, waits until all of them are delivered or
   * dead-lettered and committed, then stops and returns.
   *
   * @throws IllegalStateException on a timeout (alerts not committed are delivered by the next run)
   *     or when delivery failed
   */
  public DrainResult drainToEnd(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    claim("drainToEnd()");
    return run(true, System.nanoTime() + timeout.toNanos());
  }

  /** True while {@link #start()}'s consumer runs. */
  public boolean isRunning() {
    Thread thread = loopThread;
    return thread != null && thread.isAlive();
  }

  /** Why the notifier stopped by itself, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  /**
   * Stops consuming, gives alerts in flight up to {@code shutdownTimeout} to be delivered, commits
   * what was delivered and stops. Alerts still in flight after that are delivered by the next run.
   */
  @Override
  public void close() {
    closing = true;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    if (used.get() && Thread.currentThread() != loopThread) {
      // the broker may need a while for the last commit and leaving the group
      long wait = shutdownTimeout.plus(METADATA_TIMEOUT).toMillis();
      try {
        if (!finished.await(wait, TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("the notifier did not stop within " + wait + " ms");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the notifier to stop; alerts not yet"
            + " committed are delivered by the next run", e);
      }
    }
  }

  private void claim(String mode) {
    if (!used.compareAndSet(false, true)) {
      throw new IllegalStateException("an AlertNotifier runs once; build another one for " + mode);
    }
  }

  private DrainResult run(boolean drain, long deadlineNanos) throws InterruptedException {
    try (DeadLetterSink deadLetters = new KafkaDeadLetterSink(bootstrapServers, topics.deadLetter(), kafkaProperties);
         KafkaConsumer<byte[], byte[]> c = newConsumer()) {
      consumer = c;
      if (closing) {
        return result(null);
      }
      OffsetTracker tracker = new OffsetTracker();
      AlertFanOut fanOut = new AlertFanOut(notifiers, http, requestTimeout, retry, deadLetters, metrics, deliveryLog,
          this::fail);
      try {
        Map<TopicPartition, Long> end = drain ? endOffsets(c) : null;
        c.subscribe(List.of(topics.alerts()), new Rebalance(c, tracker));
        LOG.info("delivering alerts on {} (group {}) to {}{}", topics.alerts(), groupId, notifiers,
            end != null ? " up to offsets " + end : "");
        while (!closing) {
          throwIfFailed();
          try {
            for (ConsumerRecord<byte[], byte[]> record : c.poll(POLL_TIMEOUT)) {
              handle(record, tracker, fanOut, deadLetters);
            }
            commit(c, tracker);
            flowControl(c, tracker);
            if (end != null && drained(c, end, tracker)) {
              return result(fanOut);
            }
          } catch (WakeupException e) {
            // close() or a failing receiver woke the consumer: the loop checks which
            continue;
          }
          if (end != null && System.nanoTime() - deadlineNanos > 0) {
            throw new IllegalStateException("drainToEnd timed out with " + tracker.inFlight() + " alert(s) still"
                + " being delivered (offsets up to " + end + "); the next run delivers them");
          }
        }
        // close(): give alerts in flight their chance, then commit what they finished
        if (!tracker.awaitNoneInFlight(System.nanoTime() + shutdownTimeout.toNanos())) {
          LOG.warn("closing with {} alert(s) not yet delivered to every receiver; the next run delivers them",
              tracker.inFlight());
        }
        throwIfFailed();
        return result(fanOut);
      } finally {
        fanOut.close();
        // deliveries that finished while stopping are safe to commit: a commit covers finished alerts only
        try {
          commit(c, tracker);
        } catch (RuntimeException e) {
          LOG.warn("could not commit the last delivered alerts; the next run delivers them again", e);
        }
      }
    } finally {
      consumer = null;
      finished.countDown();
    }
  }

  private KafkaConsumer<byte[], byte[]> newConsumer() {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    FIXED_CONSUMER_SETTINGS.forEach((key, value) -> {
      Object given = props.get(key);
      if (given != null && !value.equals(String.valueOf(given))) {
        LOG.warn("overriding {}={} with {}: the notifier commits offsets itself, after delivery", key, given, value);
      }
      props.put(key, value);
    });
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    // unique per instance: two notifiers in one JVM (a restart in tests) must not share client metrics
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, groupId + "-" + INSTANCES.incrementAndGet());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, autoOffsetReset);
    props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private Map<TopicPartition, Long> endOffsets(KafkaConsumer<byte[], byte[]> c) {
    List<PartitionInfo> infos = c.partitionsFor(topics.alerts(), METADATA_TIMEOUT);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topics.alerts() + " does not exist at " + bootstrapServers
          + ": create it (the detection job writes alerts there)");
    }
    List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    // read_committed: the end is the last stable offset, the alerts a reader can see now
    return c.endOffsets(partitions, METADATA_TIMEOUT);
  }

  private void handle(ConsumerRecord<byte[], byte[]> record, OffsetTracker tracker, AlertFanOut fanOut,
                      DeadLetterSink deadLetters) throws InterruptedException {
    records.incrementAndGet();
    AlertSource source = new AlertSource(record.topic(), record.partition(), record.offset(), record.timestamp(),
        record.key(), record.value());
    OffsetTracker.Partition partition = tracker.track(new TopicPartition(record.topic(), record.partition()),
        record.offset());
    DeadlockAlert alert;
    try {
      if (record.value() == null) {
        throw new IOException("no value");
      }
      alert = DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
    } catch (IOException | RuntimeException e) {
      LOG.error("{} is not a DeadlockAlert ({}); dead-lettering it", source, e.toString());
      deadLetters.send(new DeadLetter(DeadLetter.DECODER, "undecodable", e.toString(), source));
      undecodable.incrementAndGet();
      metrics.failed(DeadLetter.DECODER);
      partition.done(record.offset());
      return;
    }
    long offset = record.offset();
    fanOut.submit(alert, source, () -> partition.done(offset));
  }

  private void commit(KafkaConsumer<byte[], byte[]> c, OffsetTracker tracker) {
    Map<TopicPartition, OffsetAndMetadata> ready = tracker.committable();
    if (ready.isEmpty()) {
      return;
    }
    try {
      commitSync(c, ready);
      tracker.committed(ready);
    } catch (CommitFailedException | RetriableException e) {
      // the offsets stay committable and the next round tries again (or the partition's new owner delivers)
      LOG.warn("could not commit {} yet: {}", ready, e.toString());
    }
  }

  private static void commitSync(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, OffsetAndMetadata> ready) {
    try {
      c.commitSync(ready);
    } catch (WakeupException e) {
      // close() woke the consumer; this commit still has to happen
      c.commitSync(ready);
    }
  }

  /** Stops fetching while too many alerts are in flight, so a receiver that is down cannot fill memory. */
  private void flowControl(KafkaConsumer<byte[], byte[]> c, OffsetTracker tracker) {
    if (tracker.inFlight() >= maxInFlight) {
      Set<TopicPartition> assigned = c.assignment();
      if (!c.paused().containsAll(assigned)) {
        LOG.warn("{} alerts in flight: pausing {} until receivers catch up", tracker.inFlight(), topics.alerts());
        c.pause(assigned);
      }
    } else if (!c.paused().isEmpty()) {
      c.resume(c.paused());
    }
  }

  private static boolean drained(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end,
                                 OffsetTracker tracker) {
    if (tracker.inFlight() > 0 || !tracker.committable().isEmpty()) {
      return false;
    }
    Set<TopicPartition> assigned = c.assignment();
    for (Map.Entry<TopicPartition, Long> entry : end.entrySet()) {
      if (entry.getValue() == 0) {
        continue;
      }
      if (!assigned.contains(entry.getKey()) || c.position(entry.getKey()) < entry.getValue()) {
        return false;
      }
    }
    return true;
  }

  private DrainResult result(AlertFanOut fanOut) {
    if (fanOut == null) {
      return new DrainResult(records.get(), Map.of(), undecodable.get());
    }
    return new DrainResult(records.get(), fanOut.delivered(), fanOut.deadLettered() + undecodable.get());
  }

  private void fail(Throwable error) {
    failure.compareAndSet(null, error);
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  private void throwIfFailed() {
    Throwable error = failure.get();
    if (error != null) {
      throw new IllegalStateException("alert delivery failed: " + error.getMessage(), error);
    }
  }

  @Override
  public String toString() {
    return "AlertNotifier(" + topics.alerts() + " → " + notifiers + ")";
  }

  /** Commits what is finished before partitions move to another group member. */
  private final class Rebalance implements ConsumerRebalanceListener {
    private final KafkaConsumer<byte[], byte[]> c;
    private final OffsetTracker tracker;

    Rebalance(KafkaConsumer<byte[], byte[]> c, OffsetTracker tracker) {
      this.c = c;
      this.tracker = tracker;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commit(c, tracker);
      tracker.forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      LOG.debug("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      tracker.forget(partitions);
    }
  }

  /** Builds an {@link AlertNotifier}: the bootstrap servers and at least one receiver are required. */
  public static final class Builder {
    private String bootstrapServers;
    private Topics topics = Topics.defaults();
    private String groupId = DEFAULT_GROUP_ID;
    private final List<Notifier> notifiers = new ArrayList<>();
    private RetryPolicy retry = RetryPolicy.defaults();
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private NotifierMetrics metrics;
    private DeliveryLog deliveryLog;
    private Properties kafkaProperties = new Properties();
    private String autoOffsetReset = "earliest";

    private Builder() {}

    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrap servers");
      return this;
    }

    /** Reads {@code topics.alerts()}, dead-letters to {@code topics.deadLetter()} (default: the standard names). */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** The consumer group whose committed offsets say what was delivered (default {@value #DEFAULT_GROUP_ID}). */
    public Builder groupId(String groupId) {
      this.groupId = Objects.requireNonNull(groupId, "group id");
      return this;
    }

    /** Adds a receiver; names must differ. */
    public Builder notifier(Notifier notifier) {
      notifiers.add(Objects.requireNonNull(notifier, "notifier"));
      return this;
    }

    public Builder notifiers(Collection<? extends Notifier> notifiers) {
      Objects.requireNonNull(notifiers, "notifiers").forEach(this::notifier);
      return this;
    }

    public Builder retryPolicy(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry policy");
      return this;
    }

    /** The bound on one HTTP attempt, connect included (default 10 s). */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = Objects.requireNonNull(requestTimeout, "request timeout");
      return this;
    }

    /** How long {@link #close()} lets alerts in flight finish (default 10 s); zero stops at once. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = Objects.requireNonNull(shutdownTimeout, "shutdown timeout");
      return this;
    }

    /** Alerts in flight before consuming pauses (default {@value #DEFAULT_MAX_IN_FLIGHT}). */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** Where the delivery counters go (default: a registry of their own that nothing exports). */
    public Builder metrics(NotifierMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /**
     * What was delivered already, so that an alert that comes again (alerts are written at least
     * once) is not sent again: {@link JdbcDeliveryLog} survives restarts; default a
     * {@link MemoryDeliveryLog} that lasts as long as the process.
     */
    public Builder deliveryLog(DeliveryLog deliveryLog) {
      this.deliveryLog = Objects.requireNonNull(deliveryLog, "delivery log");
      return this;
    }

    /** Client settings for the deployment's Kafka (security, timeouts); applied to consumer and producer. */
    public Builder kafkaProperties(Properties kafkaProperties) {
      Objects.requireNonNull(kafkaProperties, "Kafka properties");
      this.kafkaProperties = new Properties();
      this.kafkaProperties.putAll(kafkaProperties);
      return this;
    }

    /**
     * Where a group without committed offsets starts: "earliest" (default: no alert written before the
     * first start is lost) or "latest".
     */
    public Builder autoOffsetReset(String autoOffsetReset) {
      this.autoOffsetReset = Objects.requireNonNull(autoOffsetReset, "auto offset reset");
      return this;
    }

    public AlertNotifier build() {
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        throw new IllegalStateException("the notifier reads alerts from Kafka: set bootstrapServers(...),"
            + " e.g. kafka:9092");
      }
      if (notifiers.isEmpty()) {
        throw new IllegalStateException("no receiver configured: add one with notifier(...), e.g. from"
            + " --pagerduty-routing-key, --alertmanager-url or --webhook-url");
      }
      Map<String, Long> names = notifiers.stream().collect(Collectors.groupingBy(Notifier::name, Collectors.counting()));
      names.forEach((name, count) -> {
        if (count > 1) {
          throw new IllegalStateException("two receivers are named '" + name + "': metrics and dead letters could not"
              + " tell them apart; configure each kind once");
        }
      });
      if (!autoOffsetReset.equals("earliest") && !autoOffsetReset.equals("latest")) {
        throw new IllegalStateException("autoOffsetReset is 'earliest' or 'latest'; got '" + autoOffsetReset + "'");
      }
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalStateException("the request timeout must be positive, e.g. 10 s; got " + requestTimeout);
      }
      if (shutdownTimeout.isNegative()) {
        throw new IllegalStateException("the shutdown timeout must not be negative; got " + shutdownTimeout);
      }
      if (maxInFlight < 1) {
        throw new IllegalStateException("maxInFlight must be at least 1; got " + maxInFlight);
      }
      return new AlertNotifier(this);
    }
  }
}
