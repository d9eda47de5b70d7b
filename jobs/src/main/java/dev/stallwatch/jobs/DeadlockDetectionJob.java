package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.DeadLetter;
import dev.stallwatch.jobs.events.DeadLetterRouter;
import dev.stallwatch.jobs.events.InputLimits;
import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.jobs.events.ObservationDeserializer;
import dev.stallwatch.jobs.events.ObservationTimestamps;
import dev.stallwatch.jobs.events.ProfileSummarizer;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.jobs.sinks.AlertRecordSerializer;
import dev.stallwatch.jobs.sinks.DeadLetterSerializer;
import dev.stallwatch.jobs.sinks.HealthRecordSerializer;
import dev.stallwatch.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deadlock detection job: four Kafka topics of collector events (profiles, upstream counts,
 * traffic events, window manifests) → decode (bad records to the dead-letter topic) →
 * {@code keyBy(containerId)} → {@link DeadlockDetector} → alerts topic, at least once with
 * deterministic incident IDs (no checkpoint between an alert and its readers); and, at least once,
 * one container-health record per evaluated window.
 *
 * <pre>{@code
 * DeadlockDetectionJob.builder()
 *     .bootstrapServers("localhost:9092")
 *     .topics(Topics.defaults())
 *     .options(DetectorOptions.defaults())
 *     .rules(SignatureRules.defaults())
 *     .bounded(true)                       // stop at the offsets that are latest at start
 *     .build()
 *     .execute(env);
 * }</pre>
 */
public final class DeadlockDetectionJob {

  private static final Logger LOG = LoggerFactory.getLogger(DeadlockDetectionJob.class);

  public static final String JOB_NAME = "stallwatch-deadlock-detection";

  // stable operator IDs: savepoints survive refactors
  public static final String PROFILES_SOURCE = "profiles-source";
  public static final String UPSTREAM_SOURCE = "upstream-source";
  public static final String TRAFFIC_SOURCE = "traffic-source";
  public static final String MANIFESTS_SOURCE = "manifests-source";
  public static final String PROFILES_DECODED = "profiles-dead-letters";
  public static final String UPSTREAM_DECODED = "upstream-dead-letters";
  public static final String TRAFFIC_DECODED = "traffic-dead-letters";
  public static final String MANIFESTS_DECODED = "manifests-dead-letters";
  public static final String DETECTOR = "deadlock-detector";
  public static final String ALERTS_SINK = "alerts-sink";
  public static final String DEAD_LETTER_SINK = "dead-letter-sink";
  public static final String CONTAINER_HEALTH_SINK = "container-health-sink";

  public static final String DEFAULT_GROUP_ID = "stallwatch-deadlock-detector";
  public static final String DEFAULT_TRANSACTIONAL_ID_PREFIX = "stallwatch-deadlock-alerts";
  /** Below the broker's transaction.max.timeout.ms (15 min); Flink's default is 1 h. */
  public static final String DEFAULT_TRANSACTION_TIMEOUT_MS = "60000";
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
  /** A bounded run finishes with a checkpoint; a short interval lets it finish soon. */
  public static final Duration DEFAULT_BOUNDED_CHECKPOINT_INTERVAL = Duration.ofMillis(500);

  private final Builder b;

  private DeadlockDetectionJob(Builder builder) {
    this.b = builder.copy(); // later changes to the builder do not change a built job
  }

  public static Builder builder() {
    return new Builder();
  }

  public Topics topics() {
    return b.topics;
  }

  public DetectorOptions options() {
    return b.options;
  }

  public SignatureRules rules() {
    return b.rules;
  }

  public boolean bounded() {
    return b.bounded;
  }

  /** The state backend set on the builder, or null for the environment's. */
  public String stateBackend() {
    return b.stateBackend;
  }

  public String checkpointDirectory() {
    return b.checkpointDirectory;
  }

  /** Builds the job graph into the environment (enabling checkpointing when it is off). */
  public void addTo(StreamExecutionEnvironment env) {
    configureState(env);
    ensureCheckpointing(env);
    WatermarkStrategy<Observation> eventTime = eventTime();

    SingleOutputStreamOperator<Observation> profiles =
        decoded(env, profilesSource(), eventTime, PROFILES_SOURCE, PROFILES_DECODED);
    SingleOutputStreamOperator<Observation> upstream =
        decoded(env, upstreamSource(), eventTime, UPSTREAM_SOURCE, UPSTREAM_DECODED);
    SingleOutputStreamOperator<Observation> traffic =
        decoded(env, trafficSource(), eventTime, TRAFFIC_SOURCE, TRAFFIC_DECODED);

    SingleOutputStreamOperator<Observation> manifests =
        decoded(env, manifestsSource(), eventTime, MANIFESTS_SOURCE, MANIFESTS_DECODED);

    // a bounded run evaluates at the end of its input, in event-time order: no early evaluation
    SingleOutputStreamOperator<AlertRecord> alerts = profiles.union(upstream, traffic, manifests)
        .keyBy(new ContainerId())
        .process(new DeadlockDetector(b.options, b.rules, !b.bounded)).name(DETECTOR).uid(DETECTOR);
    alerts.sinkTo(alertsSink()).name(ALERTS_SINK).uid(ALERTS_SINK);
    if (b.containerHealth) {
      alerts.getSideOutput(DeadlockDetector.CONTAINER_HEALTH)
          .sinkTo(containerHealthSink()).name(CONTAINER_HEALTH_SINK).uid(CONTAINER_HEALTH_SINK);
    }

    profiles.getSideOutput(DeadLetterRouter.DEAD_LETTERS)
        .union(upstream.getSideOutput(DeadLetterRouter.DEAD_LETTERS),
            traffic.getSideOutput(DeadLetterRouter.DEAD_LETTERS),
            manifests.getSideOutput(DeadLetterRouter.DEAD_LETTERS))
        .sinkTo(deadLetterSink()).name(DEAD_LETTER_SINK).uid(DEAD_LETTER_SINK);
  }

  /** Builds the graph and runs it; returns when the job ends (for a bounded job: at the end of input). */
  public JobExecutionResult execute(StreamExecutionEnvironment env) throws Exception {
    addTo(env);
    return env.execute(JOB_NAME);
  }

  /** Builds the graph and submits it; returns at once. */
  public JobClient executeAsync(StreamExecutionEnvironment env) throws Exception {
    addTo(env);
    return env.executeAsync(JOB_NAME);
  }

  /**
   * Runs the job on a cluster ({@code flink run -c} this class, or the REST API's jar run); the
   * arguments are {@link JobArguments}' ({@code --help} lists them). Bad arguments throw, never
   * exit: under the REST API this runs inside the JobManager.
   */
  public static void main(String[] args) throws Exception {
    Builder builder;
    try {
      builder = JobArguments.parse(args);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(JOB_NAME + ": " + e.getMessage(), e);
    }
    if (builder == null) {
      System.out.println(JobArguments.usage());
      return;
    }
    builder.build().execute(StreamExecutionEnvironment.getExecutionEnvironment());
  }

  private static SingleOutputStreamOperator<Observation> decoded(
      StreamExecutionEnvironment env,
      Source<Observation, ?, ?> source,
      WatermarkStrategy<Observation> eventTime,
      String sourceId,
      String routerId) {
    return env.fromSource(source, eventTime, sourceId).uid(sourceId)
        .process(new DeadLetterRouter()).name(routerId).uid(routerId);
  }

  /**
   * Unbounded: per Kafka partition, bounded out-of-orderness and idleness. Bounded: no
   * watermark until the end of the input, so every window is evaluated then, in event-time
   * order, and a replay's verdicts do not depend on the order its records were published in.
   */
  private WatermarkStrategy<Observation> eventTime() {
    if (b.bounded) {
      return WatermarkStrategy.<Observation>noWatermarks()
          .withTimestampAssigner(new ObservationTimestamps());
    }
    return WatermarkStrategy.<Observation>forBoundedOutOfOrderness(b.options.outOfOrderness())
        .withTimestampAssigner(new ObservationTimestamps())
        .withIdleness(b.options.idleness());
  }

  /** RocksDB with incremental checkpoints, retained on cancel so an operator can resume from the latest. */
  private void configureState(StreamExecutionEnvironment env) {
    Configuration conf = new Configuration();
    if (b.stateBackend != null) {
      conf.set(StateBackendOptions.STATE_BACKEND, b.stateBackend);
      conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, "rocksdb".equals(b.stateBackend));
    }
    if (b.checkpointDirectory != null) {
      conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
      conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, b.checkpointDirectory);
      conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
          ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    }
    if (conf.keySet().isEmpty()) {
      return; // the environment's (the cluster's) settings stand
    }
    env.configure(conf);
  }

  private void ensureCheckpointing(StreamExecutionEnvironment env) {
    if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
      Duration interval = b.checkpointInterval != null ? b.checkpointInterval
          : b.bounded ? DEFAULT_BOUNDED_CHECKPOINT_INTERVAL : DEFAULT_CHECKPOINT_INTERVAL;
      // source offsets and detector state are restored from checkpoints
      LOG.info("Checkpointing was off; enabling it every {}", interval);
      env.enableCheckpointing(interval.toMillis());
    } else if (b.checkpointInterval != null) {
      LOG.warn("Checkpointing is already on every {} ms; checkpointInterval({}) is ignored",
          env.getCheckpointConfig().getCheckpointInterval(), b.checkpointInterval);
    }
  }

  private Source<Observation, ?, ?> profilesSource() {
    if (b.profilesSource != null) {
      return b.profilesSource;
    }
    ProfileSummarizer summarizer = new ProfileSummarizer(
        b.rules, b.options.stacksPerWindow(), b.options.defaultSampleFrequencyHz());
    return kafkaSource(b.topics.profiles(), "profiles", ObservationDeserializer.profiles(summarizer));
  }

  private Source<Observation, ?, ?> upstreamSource() {
    return b.upstreamSource != null ? b.upstreamSource
        : kafkaSource(b.topics.upstream(), "upstream", ObservationDeserializer.upstream());
  }

  private Source<Observation, ?, ?> trafficSource() {
    return b.trafficSource != null ? b.trafficSource
        : kafkaSource(b.topics.traffic(), "traffic", ObservationDeserializer.traffic());
  }

  private Source<Observation, ?, ?> manifestsSource() {
    return b.manifestsSource != null ? b.manifestsSource
        : kafkaSource(b.topics.completeness(), "manifests", ObservationDeserializer.manifests());
  }

  @SuppressWarnings("deprecation") // the connector's committedOffsets still takes OffsetResetStrategy
  private KafkaSource<Observation> kafkaSource(String topic, String name, ObservationDeserializer deserializer) {
    var source = KafkaSource.<Observation>builder()
        .setProperties(b.kafkaProperties)
        .setBootstrapServers(b.bootstrapServers)
        .setGroupId(b.groupId)
        .setClientIdPrefix(b.groupId + "-" + name)
        .setTopics(topic)
        // the deserializer refuses implausible event times before the watermark sees them
        .setDeserializer(deserializer.withLimits(InputLimits.of(b.options)));
    if (b.bounded) {
      source.setStartingOffsets(OffsetsInitializer.earliest())
          .setBounded(OffsetsInitializer.latest());
    } else {
      source.setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST));
    }
    return source.build();
  }

  private Sink<AlertRecord> alertsSink() {
    if (b.alertsSink != null) {
      return b.alertsSink;
    }
    Properties producer = new Properties();
    producer.putAll(b.kafkaProperties);
    producer.putIfAbsent("transaction.timeout.ms", DEFAULT_TRANSACTION_TIMEOUT_MS);
    return KafkaSink.<AlertRecord>builder()
        .setKafkaProducerConfig(producer)
        .setBootstrapServers(b.bootstrapServers)
        .setRecordSerializer(new AlertRecordSerializer(b.topics.alerts()))
        .setDeliveryGuarantee(b.alertsDeliveryGuarantee)
        .setTransactionalIdPrefix(b.transactionalIdPrefix)
        .build();
  }

  private Sink<DeadLetter> deadLetterSink() {
    if (b.deadLetterSink != null) {
      return b.deadLetterSink;
    }
    Properties producer = new Properties();
    producer.putAll(b.kafkaProperties);
    return KafkaSink.<DeadLetter>builder()
        .setKafkaProducerConfig(producer)
        .setBootstrapServers(b.bootstrapServers)
        .setRecordSerializer(new DeadLetterSerializer(b.topics.deadLetter()))
        // a dead letter twice after a restart does no harm; no transactions needed
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .build();
  }

  private Sink<HealthRecord> containerHealthSink() {
    if (b.containerHealthSink != null) {
      return b.containerHealthSink;
    }
    Properties producer = new Properties();
    producer.putAll(b.kafkaProperties);
    return KafkaSink.<HealthRecord>builder()
        .setKafkaProducerConfig(producer)
        .setBootstrapServers(b.bootstrapServers)
        .setRecordSerializer(new HealthRecordSerializer(b.topics.containerHealth()))
        // a window reported twice after a restart is the same point twice on a graph
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .build();
  }

  /** Key of the detector: the container ID. */
  static final class ContainerId implements KeySelector<Observation, String> {
    @Override
    public String getKey(Observation observation) {
      return observation.containerId;
    }
  }

  /** Configures a {@link DeadlockDetectionJob}; setters check their argument at once. */
  public static final class Builder {
    private String bootstrapServers;
    private Topics topics = Topics.defaults();
    private DetectorOptions options = DetectorOptions.defaults();
    private SignatureRules rules;
    private boolean bounded;
    private Properties kafkaProperties = new Properties();
    private String groupId = DEFAULT_GROUP_ID;
    private String transactionalIdPrefix = DEFAULT_TRANSACTIONAL_ID_PREFIX;
    private Duration checkpointInterval;
    private String stateBackend;
    private String checkpointDirectory;
    private Source<Observation, ?, ?> profilesSource;
    private Source<Observation, ?, ?> upstreamSource;
    private Source<Observation, ?, ?> trafficSource;
    private Source<Observation, ?, ?> manifestsSource;
    private DeliveryGuarantee alertsDeliveryGuarantee = DeliveryGuarantee.AT_LEAST_ONCE;
    private Sink<AlertRecord> alertsSink;
    private Sink<DeadLetter> deadLetterSink;
    private boolean containerHealth = true;
    private Sink<HealthRecord> containerHealthSink;

    private Builder() {}

    private Builder copy() {
      Builder c = new Builder();
      c.bootstrapServers = bootstrapServers;
      c.topics = topics;
      c.options = options;
      c.rules = rules;
      c.bounded = bounded;
      c.kafkaProperties = new Properties();
      c.kafkaProperties.putAll(kafkaProperties);
      c.groupId = groupId;
      c.transactionalIdPrefix = transactionalIdPrefix;
      c.checkpointInterval = checkpointInterval;
      c.stateBackend = stateBackend;
      c.checkpointDirectory = checkpointDirectory;
      c.profilesSource = profilesSource;
      c.upstreamSource = upstreamSource;
      c.trafficSource = trafficSource;
      c.manifestsSource = manifestsSource;
      c.alertsDeliveryGuarantee = alertsDeliveryGuarantee;
      c.alertsSink = alertsSink;
      c.deadLetterSink = deadLetterSink;
      c.containerHealth = containerHealth;
      c.containerHealthSink = containerHealthSink;
      return c;
    }

    /** Kafka bootstrap servers for every source and sink not wired by hand. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = requireText(bootstrapServers, "bootstrapServers");
      return this;
    }

    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    public Builder options(DetectorOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Signature rules; default {@link SignatureRules#defaults()}. */
    public Builder rules(SignatureRules rules) {
      this.rules = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /** Loads the signature rules from a YAML or JSON file. */
    public Builder rules(Path rulesFile) {
      return rules(SignatureRules.load(Objects.requireNonNull(rulesFile, "rulesFile")));
    }

    /**
     * true: read each input topic from the earliest offset up to the offset that is latest
     * when the job starts, evaluate every window in event-time order at the end of the input
     * (so the publishing order does not matter), then finish after a final checkpoint that
     * commits the alerts. false (default): read from the committed offsets (else the
     * earliest) forever, with watermark.out-of-orderness and watermark.idleness.
     */
    public Builder bounded(boolean bounded) {
      this.bounded = bounded;
      return this;
    }

    /** Extra Kafka client properties (security, timeouts, ...) for every source and sink. */
    public Builder kafkaProperties(Properties kafkaProperties) {
      Objects.requireNonNull(kafkaProperties, "kafkaProperties");
      this.kafkaProperties = new Properties();
      this.kafkaProperties.putAll(kafkaProperties);
      return this;
    }

    /** Consumer group of the sources; default {@value DeadlockDetectionJob#DEFAULT_GROUP_ID}. */
    public Builder groupId(String groupId) {
      this.groupId = requireText(groupId, "groupId");
      return this;
    }

    /**
     * Transactional ID prefix of the exactly-once alert sink; must differ between jobs that
     * run at the same time on one Kafka cluster.
     */
    public Builder transactionalIdPrefix(String prefix) {
      this.transactionalIdPrefix = requireText(prefix, "transactionalIdPrefix");
      return this;
    }

    /**
     * Checkpoint interval used when the environment has checkpointing off; default 10 s,
     * 500 ms for bounded jobs. Alerts become visible to read_committed consumers at checkpoints.
     */
    public Builder checkpointInterval(Duration interval) {
      Objects.requireNonNull(interval, "checkpointInterval");
      if (interval.isZero() || interval.isNegative()) {
        throw new IllegalArgumentException("checkpointInterval must be > 0, got " + interval);
      }
      this.checkpointInterval = interval;
      return this;
    }

    /**
     * State backend, {@code rocksdb} (with incremental checkpoints) or {@code hashmap}; default:
     * the environment's.
     */
    public Builder stateBackend(String stateBackend) {
      String backend = requireText(stateBackend, "stateBackend");
      if (!backend.equals("rocksdb") && !backend.equals("hashmap")) {
        throw new IllegalArgumentException("stateBackend must be rocksdb or hashmap, got " + backend);
      }
      this.stateBackend = backend;
      return this;
    }

    /** Checkpoint directory URI ({@code file:///...}, {@code s3://...}); default: the environment's. */
    public Builder checkpointDirectory(String uri) {
      this.checkpointDirectory = requireText(uri, "checkpointDirectory");
      return this;
    }

    /** Replaces the Kafka source of profile windows (e.g. in tests). */
    public Builder profilesSource(Source<Observation, ?, ?> source) {
      this.profilesSource = Objects.requireNonNull(source, "profilesSource");
      return this;
    }

    public Builder upstreamSource(Source<Observation, ?, ?> source) {
      this.upstreamSource = Objects.requireNonNull(source, "upstreamSource");
      return this;
    }

    public Builder trafficSource(Source<Observation, ?, ?> source) {
      this.trafficSource = Objects.requireNonNull(source, "trafficSource");
      return this;
    }

    /** Replaces the Kafka source of collectors' WindowManifests (e.g. in tests). */
    public Builder manifestsSource(Source<Observation, ?, ?> source) {
      this.manifestsSource = Objects.requireNonNull(source, "manifestsSource");
      return this;
    }

    /**
     * AT_LEAST_ONCE (default): an alert is on the topic as soon as the detector raises it; after a
     * restart from a checkpoint the same alert (same incident ID) may come again, and every
     * consumer deduplicates by incident ID (the store upserts, the notifier remembers what it
     * delivered). EXACTLY_ONCE: readers see alerts only when the checkpoint after them completes.
     */
    public Builder alertsDeliveryGuarantee(DeliveryGuarantee guarantee) {
      Objects.requireNonNull(guarantee, "alertsDeliveryGuarantee");
      if (guarantee == DeliveryGuarantee.NONE) {
        throw new IllegalArgumentException("alertsDeliveryGuarantee NONE could lose an alert: use AT_LEAST_ONCE");
      }
      this.alertsDeliveryGuarantee = guarantee;
      return this;
    }

    public Builder alertsSink(Sink<AlertRecord> sink) {
      this.alertsSink = Objects.requireNonNull(sink, "alertsSink");
      return this;
    }

    public Builder deadLetterSink(Sink<DeadLetter> sink) {
      this.deadLetterSink = Objects.requireNonNull(sink, "deadLetterSink");
      return this;
    }

    /**
     * true (default): send one container-health record per evaluated window with data to the
     * containerHealth topic, for dashboards; false: the detector's side output goes nowhere.
     */
    public Builder containerHealth(boolean containerHealth) {
      this.containerHealth = containerHealth;
      return this;
    }

    /** Replaces the Kafka sink of container-health records (e.g. in tests). */
    public Builder containerHealthSink(Sink<HealthRecord> sink) {
      this.containerHealthSink = Objects.requireNonNull(sink, "containerHealthSink");
      return this;
    }

    public DeadlockDetectionJob build() {
      boolean needsKafka = profilesSource == null || upstreamSource == null || trafficSource == null
          || manifestsSource == null
          || alertsSink == null || deadLetterSink == null
          || (containerHealth && containerHealthSink == null);
      if (needsKafka && bootstrapServers == null) {
        throw new IllegalStateException("bootstrapServers is not set: set it with"
            + " bootstrapServers(\"host:9092\"), or wire all four sources and every sink"
            + " yourself (containerHealth(false) needs no container-health sink)");
      }
      if (!containerHealth && containerHealthSink != null) {
        LOG.warn("containerHealth(false): the container-health sink given is not used");
      }
      if (rules == null) {
        rules = SignatureRules.defaults();
      }
      if (rules.isEmpty()) {
        throw new IllegalStateException("no signature rules: the detector would never alert;"
            + " use SignatureRules.defaults() or a rules file with at least one rule");
      }
      warnOnOverride("bootstrap.servers", bootstrapServers);
      warnOnOverride("group.id", groupId);
      return new DeadlockDetectionJob(this);
    }

    private void warnOnOverride(String key, String value) {
      String given = kafkaProperties.getProperty(key);
      if (given != null && value != null && !given.equals(value)) {
        LOG.warn("kafkaProperties {}={} is overridden by the builder's {}", key, given, value);
      }
    }

    private static String requireText(String value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank");
      }
      return value;
    }
  }
}
