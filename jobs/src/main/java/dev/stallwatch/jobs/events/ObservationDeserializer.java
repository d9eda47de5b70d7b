package dev.stallwatch.jobs.events;

import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes the protobuf values of one input topic into {@link Observation}s. Never throws: a
 * record that cannot be decoded becomes a {@link Observation.Kind#DEAD_LETTER} observation with
 * the original key, value and the error.
 */
public final class ObservationDeserializer implements KafkaRecordDeserializationSchema<Observation> {

  /** Which protobuf message a topic carries. */
  public enum Payload {
    PROFILE_WINDOW,
    UPSTREAM_WINDOW,
    TRAFFIC_EVENT,
    WINDOW_MANIFEST
  }

  /** Longest container ID accepted (a Docker/CRI ID is 64 hex digits; room for prefixes). */
  public static final int MAX_CONTAINER_ID_LENGTH = 256;

  /** Bounds the keyed state one manifest can add. */
  static final int MAX_MANIFEST_SOURCES = 64;

  private final Payload payload;
  private final ProfileSummarizer summarizer;
  private final InputLimits limits;

  private ObservationDeserializer(Payload payload, ProfileSummarizer summarizer, InputLimits limits) {
    this.payload = payload;
    this.summarizer = summarizer;
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  public static ObservationDeserializer profiles(ProfileSummarizer summarizer) {
    return new ObservationDeserializer(Payload.PROFILE_WINDOW, summarizer, DEFAULT_LIMITS);
  }

  public static ObservationDeserializer upstream() {
    return new ObservationDeserializer(Payload.UPSTREAM_WINDOW, null, DEFAULT_LIMITS);
  }

  public static ObservationDeserializer traffic() {
    return new ObservationDeserializer(Payload.TRAFFIC_EVENT, null, DEFAULT_LIMITS);
  }

  public static ObservationDeserializer manifests() {
    return new ObservationDeserializer(Payload.WINDOW_MANIFEST, null, DEFAULT_LIMITS);
  }

  private static final InputLimits DEFAULT_LIMITS = InputLimits.of(DetectorOptions.defaults());

  /** The same decoder with other event-time limits (the job's options). */
  public ObservationDeserializer withLimits(InputLimits limits) {
    return new ObservationDeserializer(payload, summarizer, limits);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Observation> out) {
    Observation observation;
    try {
      observation = decode(record.value());
    } catch (InvalidRecordException e) {
      observation = Observation.of(deadLetter(record, e.reason(), e.getMessage()));
    } catch (Exception e) {
      // protobuf errors and anything unforeseen: never fail the job
      String message = e.getMessage() == null ? "" : e.getMessage();
      observation = Observation.of(deadLetter(record, DeadLetterReason.UNDECODABLE,
          e.getClass().getSimpleName() + ": " + message));
    }
    out.collect(observation);
  }

  /**
   * Decodes and checks one value; throws on anything that is not a valid message of this topic.
   * Runs inside the source, before the timestamp assigner: a record it refuses never reaches
   * the watermark.
   */
  public Observation decode(byte[] value) throws Exception {
    if (value == null || value.length == 0) {
      throw new InvalidRecordException(DeadLetterReason.UNDECODABLE, "empty value (tombstone?)");
    }
    return switch (payload) {
      case PROFILE_WINDOW -> profile(ProfileWindow.parseFrom(value));
      case UPSTREAM_WINDOW -> upstream(UpstreamWindow.parseFrom(value));
      case TRAFFIC_EVENT -> traffic(TrafficEvent.parseFrom(value));
      case WINDOW_MANIFEST -> manifest(WindowManifest.parseFrom(value));
    };
  }

  private Observation profile(ProfileWindow pw) throws InvalidRecordException {
    checkContainerId("ProfileWindow", pw.getContainerId());
    limits.checkWindow("ProfileWindow", pw.getWindowStartMs(), pw.getWindowEndMs());
    nonNegative("ProfileWindow total_weight", pw.getTotalWeight());
    nonNegative("ProfileWindow sample_count", pw.getSampleCount());
    if (pw.hasCgroupCpuNs()) {
      nonNegative("ProfileWindow cgroup_cpu_ns", pw.getCgroupCpuNs());
    }
    double hz = pw.getSampleFrequencyHz();
    if (!Double.isFinite(hz) || hz < 0 || hz > MAX_SAMPLE_FREQUENCY_HZ) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER, "ProfileWindow sample_frequency_hz "
          + hz + ": expected a finite number in [0, " + (long) MAX_SAMPLE_FREQUENCY_HZ + "]");
    }
    for (int i = 0; i < pw.getStacksCount(); i++) {
      nonNegative("ProfileWindow stack " + i + " samples", pw.getStacks(i).getSamples());
    }
    ProfileSummary summary = summarizer.summarize(pw);
    if (!Double.isFinite(summary.cpuCores)) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER,
          "ProfileWindow CPU cores " + summary.cpuCores + " is not finite");
    }
    return Observation.of(summary, pw.getContainerId());
  }

  /** perf's own ceiling (kernel.perf_event_max_sample_rate) is 100 kHz by default. */
  static final double MAX_SAMPLE_FREQUENCY_HZ = 1_000_000;

  private Observation upstream(UpstreamWindow uw) throws InvalidRecordException {
    checkContainerId("UpstreamWindow", uw.getContainerId());
    limits.checkWindow("UpstreamWindow", uw.getWindowStartMs(), uw.getWindowEndMs());
    nonNegative("UpstreamWindow requests", uw.getRequests());
    nonNegative("UpstreamWindow timeouts", uw.getTimeouts());
    if (uw.getTimeouts() > uw.getRequests()) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER, "UpstreamWindow timeouts "
          + uw.getTimeouts() + " exceed requests " + uw.getRequests());
    }
    UpstreamCount u = new UpstreamCount();
    u.source = uw.getSource();
    u.host = uw.getHost();
    u.windowStartMs = uw.getWindowStartMs();
    u.windowEndMs = uw.getWindowEndMs();
    u.requests = uw.getRequests();
    u.timeouts = uw.getTimeouts();
    return Observation.of(u, uw.getContainerId());
  }

  private Observation traffic(TrafficEvent te) throws InvalidRecordException {
    checkContainerId("TrafficEvent", te.getContainerId());
    if (te.getTimestampMs() == 0) {
      throw new InvalidRecordException("TrafficEvent without timestamp_ms");
    }
    limits.checkEventTime("TrafficEvent", "timestamp_ms", te.getTimestampMs());
    TrafficChange t = new TrafficChange();
    t.action = switch (te.getAction()) {
      case TRAFFIC_ACTION_DRAINED -> TrafficChange.Action.DRAINED;
      case TRAFFIC_ACTION_RESTORED -> TrafficChange.Action.RESTORED;
      default -> throw new InvalidRecordException(
          "TrafficEvent action " + te.getActionValue() + ": expected DRAINED or RESTORED");
    };
    t.timestampMs = te.getTimestampMs();
    t.actor = te.getActor();
    t.reason = te.getReason();
    return Observation.of(t, te.getContainerId());
  }

  private Observation manifest(WindowManifest wm) throws InvalidRecordException {
    checkContainerId("WindowManifest", wm.getContainerId());
    if (wm.getHost().isEmpty()) {
      throw new InvalidRecordException("WindowManifest without host");
    }
    limits.checkWindow("WindowManifest", wm.getWindowStartMs(), wm.getWindowEndMs());
    if (wm.getUpstreamSourcesCount() > MAX_MANIFEST_SOURCES) {
      throw new InvalidRecordException("WindowManifest lists " + wm.getUpstreamSourcesCount()
          + " upstream sources, more than " + MAX_MANIFEST_SOURCES);
    }
    CollectorManifest m = new CollectorManifest();
    m.host = wm.getHost();
    m.windowStartMs = wm.getWindowStartMs();
    m.windowEndMs = wm.getWindowEndMs();
    m.profile = wm.getProfile();
    m.upstreamSources = wm.getUpstreamSourcesList().toArray(new String[0]);
    return Observation.of(m, wm.getContainerId());
  }

  private static void checkContainerId(String message, String id) throws InvalidRecordException {
    if (id.isEmpty()) {
      throw new InvalidRecordException(message + " without container_id");
    }
    if (id.length() > MAX_CONTAINER_ID_LENGTH) {
      throw new InvalidRecordException(message + " container_id of " + id.length()
          + " characters: at most " + MAX_CONTAINER_ID_LENGTH);
    }
  }

  private static void nonNegative(String what, long value) throws InvalidRecordException {
    if (value < 0) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER, what + " is negative: " + value);
    }
  }

  private static DeadLetter deadLetter(
      ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String error) {
    DeadLetter d = new DeadLetter();
    d.reason = reason;
    d.topic = record.topic();
    d.partition = record.partition();
    d.offset = record.offset();
    d.timestamp = record.timestamp();
    d.key = record.key();
    d.value = record.value();
    d.error = error;
    return d;
  }

  @Override
  public TypeInformation<Observation> getProducedType() {
    return TypeInformation.of(Observation.class);
  }
}
