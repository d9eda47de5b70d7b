package dev.stallwatch.jobs;

import java.util.List;
import java.util.stream.Stream;

/**
 * The metrics the detection job registers, the built-in Flink and Kafka-connector metrics the
 * dashboards read, and the names Flink's Prometheus reporter
 * ({@code org.apache.flink.metrics.prometheus.PrometheusReporterFactory}) gives them: one place,
 * so that the code that registers a metric, the dashboards and their lint test cannot drift apart.
 *
 * <p>The reporter names a metric {@code flink_} + its logical scope + {@code _} + its name
 * ({@code flink_taskmanager_job_task_operator_alertsOpened}); the key of a key/value group is part
 * of the scope and its value a label ({@code flink_taskmanager_job_task_operator_detector_state_containers{detector_state="STUCK"}}).
 * Every scope variable becomes a label, and in label VALUES every character outside
 * {@code [a-zA-Z0-9:_]} becomes {@code _} (see {@link #prometheusLabel}):
 * <ul>
 *   <li>operator metrics ({@value #OPERATOR_PREFIX}…), one series per subtask: {@code job_name},
 *       {@code operator_name}, {@code subtask_index}, {@code task_name}, {@code job_id},
 *       {@code operator_id}, {@code task_id}, {@code task_attempt_id}, {@code task_attempt_num},
 *       {@code tm_id}, {@code host}. Sum over {@code subtask_index} for the job's figure.
 *   <li>{@code operator_name}: {@code deadlock_detector}; {@code profiles_dead_letters},
 *       {@code upstream_dead_letters}, {@code traffic_dead_letters}; the sources are named
 *       "Source: " + their name: {@code Source:_profiles_source}, {@code Source:_upstream_source},
 *       {@code Source:_traffic_source} ({@link #sourceOperatorLabel}).
 *   <li>{@code job_name}: {@code stallwatch_deadlock_detection} for {@value DeadlockDetectionJob#JOB_NAME}
 *       (a cluster, {@code stallwatch job}); in-process, the name the caller gave.
 *   <li>JobManager job metrics ({@value #JOB_PREFIX}…): {@code job_name}, {@code job_id}, {@code host}.
 * </ul>
 * Counters and gauges alike are exported as Prometheus gauges: apply {@code rate()} to the
 * counters, which restart at 0 when the job restarts.
 */
public final class JobMetrics {

  private JobMetrics() {}

  /** Prefix of every operator metric: {@code flink_taskmanager_job_task_operator_}. */
  public static final String OPERATOR_PREFIX = "flink_taskmanager_job_task_operator_";
  /** Prefix of every job metric of the JobManager (checkpoints, restarts): {@code flink_jobmanager_job_}. */
  public static final String JOB_PREFIX = "flink_jobmanager_job_";

  // --- registered by the job --------------------------------------------------------------

  /** Counter on each {@code *-dead-letters} operator ({@code DeadLetterRouter}): records that could not be decoded. */
  public static final String DEAD_LETTERS = "deadLetters";
  /**
   * Key of the key/value group of the per-reason dead-letter counters: its value (a
   * {@link dev.stallwatch.jobs.events.DeadLetterReason#label()}: undecodable, contract, future,
   * past, number) becomes the label {@code dead_letter_reason}.
   */
  public static final String DEAD_LETTER_REASON = "dead_letter_reason";
  /** Counter in the group {@link #DEAD_LETTER_REASON} = reason on each {@code *-dead-letters} operator. */
  public static final String DEAD_LETTERS_BY_REASON = "records";
  /** Counter on {@value DeadlockDetectionJob#DETECTOR}: OPEN alerts sent. */
  public static final String ALERTS_OPENED = "alertsOpened";
  /** Counter on {@value DeadlockDetectionJob#DETECTOR}: RESOLVED alerts sent. */
  public static final String ALERTS_RESOLVED = "alertsResolved";
  /** Counter on {@value DeadlockDetectionJob#DETECTOR}: records whose window was already evaluated. */
  public static final String LATE_RECORDS_DROPPED = "lateRecordsDropped";
  /**
   * Counter on {@value DeadlockDetectionJob#DETECTOR}: windows evaluated as soon as every
   * collector's WindowManifest and what it listed had arrived, before the watermark passed them.
   */
  public static final String WINDOWS_EVALUATED_EARLY = "windowsEvaluatedEarly";
  /**
   * Counter on {@value DeadlockDetectionJob#DETECTOR}: profile or upstream windows that arrived
   * after their window was evaluated early (ahead of the watermark) and were left out.
   */
  public static final String LATE_AFTER_EARLY_EVALUATION = "lateAfterEarlyEvaluation";
  /**
   * Gauge on {@value DeadlockDetectionJob#DETECTOR}: containers with detector state on the
   * subtask, as seen since the subtask started (after a restore it fills again within a window).
   */
  public static final String CONTAINERS_TRACKED = "containersTracked";
  /**
   * Key of the key/value metric group of the per-state gauges: its value (a
   * {@link dev.stallwatch.schemas.v1.DetectorState} name) becomes the label {@code detector_state}.
   */
  public static final String DETECTOR_STATE = "detector_state";
  /**
   * Gauge in the group {@link #DETECTOR_STATE} = state, one per state: containers on the subtask
   * whose last evaluated window left them in that state (HEALTHY, SPIKING, DRAINED, STUCK,
   * ALERTING). Containers not yet evaluated since the subtask started are in none.
   */
  public static final String CONTAINERS_IN_STATE = "containers";

  // --- as Prometheus sees them ------------------------------------------------------------

  /** {@code ...{operator_name="profiles_dead_letters"|"upstream_dead_letters"|"traffic_dead_letters"}}. */
  public static final String PROM_DEAD_LETTERS = OPERATOR_PREFIX + DEAD_LETTERS;
  /** {@code ...{dead_letter_reason="future",operator_name="upstream_dead_letters",...}}. */
  public static final String PROM_DEAD_LETTERS_BY_REASON =
      OPERATOR_PREFIX + DEAD_LETTER_REASON + "_" + DEAD_LETTERS_BY_REASON;
  public static final String PROM_ALERTS_OPENED = OPERATOR_PREFIX + ALERTS_OPENED;
  public static final String PROM_ALERTS_RESOLVED = OPERATOR_PREFIX + ALERTS_RESOLVED;
  public static final String PROM_LATE_RECORDS_DROPPED = OPERATOR_PREFIX + LATE_RECORDS_DROPPED;
  public static final String PROM_CONTAINERS_TRACKED = OPERATOR_PREFIX + CONTAINERS_TRACKED;
  public static final String PROM_WINDOWS_EVALUATED_EARLY = OPERATOR_PREFIX + WINDOWS_EVALUATED_EARLY;
  public static final String PROM_LATE_AFTER_EARLY_EVALUATION = OPERATOR_PREFIX + LATE_AFTER_EARLY_EVALUATION;
  /** {@code ...{detector_state="STUCK",operator_name="deadlock-detector",...}}: the key is part of the name. */
  public static final String PROM_CONTAINERS_IN_STATE =
      OPERATOR_PREFIX + DETECTOR_STATE + "_" + CONTAINERS_IN_STATE;

  /** The job's own metrics as Prometheus names. */
  public static final List<String> PROM_JOB_METRICS = List.of(
      PROM_DEAD_LETTERS, PROM_DEAD_LETTERS_BY_REASON, PROM_ALERTS_OPENED, PROM_ALERTS_RESOLVED, PROM_LATE_RECORDS_DROPPED,
      PROM_CONTAINERS_TRACKED, PROM_CONTAINERS_IN_STATE, PROM_WINDOWS_EVALUATED_EARLY,
      PROM_LATE_AFTER_EARLY_EVALUATION);

  // --- Flink's and the Kafka connector's, as Prometheus sees them ---------------------------

  /** Records read from Kafka, on each source operator ({@code operator_name="Source:_profiles_source"}, ...). */
  public static final String PROM_SOURCE_RECORDS_IN = OPERATOR_PREFIX + "numRecordsIn";
  /** Records a source operator emitted (the same operators); numRecordsIn/Out of any operator. */
  public static final String PROM_RECORDS_OUT = OPERATOR_PREFIX + "numRecordsOut";
  /**
   * Consumer lag: records in the source subtask's Kafka partitions after its position (FLIP-33).
   * A subtask shows it once it fetched from its partitions (one whose partitions never had a record
   * may have no series).
   */
  public static final String PROM_SOURCE_PENDING_RECORDS = OPERATOR_PREFIX + "pendingRecords";
  /**
   * The Kafka consumer's own maximum lag in records over its partitions, per source subtask; NaN
   * while it fetched nothing within its sample window (e.g. caught up and idle): prefer
   * {@link #PROM_SOURCE_PENDING_RECORDS}.
   */
  public static final String PROM_SOURCE_RECORDS_LAG_MAX =
      OPERATOR_PREFIX + "KafkaSourceReader_KafkaConsumer_records_lag_max";
  /** Duration of the last completed checkpoint, ms (label {@code job_name}). */
  public static final String PROM_LAST_CHECKPOINT_DURATION = JOB_PREFIX + "lastCheckpointDuration";
  /**
   * Bytes of the last completed checkpoint (its incremental size where that applies;
   * {@code flink_jobmanager_job_lastCheckpointFullSize} is the full one).
   */
  public static final String PROM_LAST_CHECKPOINT_SIZE = JOB_PREFIX + "lastCheckpointSize";
  public static final String PROM_COMPLETED_CHECKPOINTS = JOB_PREFIX + "numberOfCompletedCheckpoints";
  /**
   * Includes checkpoints that could not be triggered, e.g. one due while the job's tasks are still
   * being deployed after a (re)start.
   */
  public static final String PROM_FAILED_CHECKPOINTS = JOB_PREFIX + "numberOfFailedCheckpoints";

  /** The Flink and connector metrics the dashboards read. */
  public static final List<String> PROM_FLINK_METRICS = List.of(
      PROM_SOURCE_RECORDS_IN, PROM_RECORDS_OUT, PROM_SOURCE_PENDING_RECORDS, PROM_SOURCE_RECORDS_LAG_MAX,
      PROM_LAST_CHECKPOINT_DURATION, PROM_LAST_CHECKPOINT_SIZE, PROM_COMPLETED_CHECKPOINTS,
      PROM_FAILED_CHECKPOINTS);

  /** Every Prometheus name above: what a running job's /metrics shows and the dashboards may use. */
  public static final List<String> PROM_ALL = concat(PROM_JOB_METRICS, PROM_FLINK_METRICS);

  /** A label value as the reporter writes it: every character outside [a-zA-Z0-9:_] becomes '_'. */
  public static String prometheusLabel(String value) {
    return value.replaceAll("[^a-zA-Z0-9:_]", "_");
  }

  /** The {@code operator_name} of a source: {@code sourceOperatorLabel("profiles-source")} is {@code Source:_profiles_source}. */
  public static String sourceOperatorLabel(String sourceName) {
    return prometheusLabel("Source: " + sourceName);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream()).toList();
  }
}
