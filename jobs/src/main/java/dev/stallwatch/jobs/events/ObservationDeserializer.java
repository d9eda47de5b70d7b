package dev.stallwatch.jobs.events;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
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

  /** Bounds the keyed state one manifest can add. */
  static final int MAX_MANIFEST_SOURCES = 64;

  private final Payload payload;
  private final ProfileSummarizer summarizer;

  private ObservationDeserializer(Payload payload, ProfileSummarizer summarizer) {
    this.payload = payload;
    this.summarizer = summarizer;
  }

  public static ObservationDeserializer profiles(ProfileSummarizer summarizer) {
    return new ObservationDeserializer(Payload.PROFILE_WINDOW, summarizer);
  }

  public static ObservationDeserializer upstream() {
    return new ObservationDeserializer(Payload.UPSTREAM_WINDOW, null);
  }

  public static ObservationDeserializer traffic() {
    return new ObservationDeserializer(Payload.TRAFFIC_EVENT, null);
  }

  public static ObservationDeserializer manifests() {
    return new ObservationDeserializer(Payload.WINDOW_MANIFEST, null);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Observation> out) {
    Observation observation;
    try {
      observation = decode(record.value());
    } catch (Exception e) {
      // protobuf errors, contract violations and anything unforeseen: never fail the job
      observation = Observation.of(deadLetter(record, describe(e)));
    }
    out.collect(observation);
  }

  /** Decodes one value; throws on anything that is not a valid message of this topic. */
  public Observation decode(byte[] value) throws Exception {
    if (value == null || value.length == 0) {
      throw new InvalidRecordException("empty value (tombstone?)");
    }
    return switch (payload) {
      case PROFILE_WINDOW -> {
        ProfileWindow pw = ProfileWindow.parseFrom(value);
        yield Observation.of(summarizer.summarize(pw), pw.getContainerId());
      }
      case UPSTREAM_WINDOW -> upstream(UpstreamWindow.parseFrom(value));
      case TRAFFIC_EVENT -> traffic(TrafficEvent.parseFrom(value));
      case WINDOW_MANIFEST -> manifest(WindowManifest.parseFrom(value));
    };
  }

  private static Observation upstream(UpstreamWindow uw) throws InvalidRecordException {
    if (uw.getContainerId().isEmpty()) {
      throw new InvalidRecordException("UpstreamWindow without container_id");
    }
    if (uw.getWindowStartMs() <= 0 || uw.getWindowEndMs() <= uw.getWindowStartMs()) {
      throw new InvalidRecordException("UpstreamWindow window [" + uw.getWindowStartMs()
          + ", " + uw.getWindowEndMs() + ") is empty or before 1970");
    }
    if (uw.getRequests() < 0 || uw.getTimeouts() < 0) {
      throw new InvalidRecordException("UpstreamWindow with negative requests or timeouts");
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

  private static Observation traffic(TrafficEvent te) throws InvalidRecordException {
    if (te.getContainerId().isEmpty()) {
      throw new InvalidRecordException("TrafficEvent without container_id");
    }
    if (te.getTimestampMs() <= 0) {
      throw new InvalidRecordException("TrafficEvent without timestamp_ms");
    }
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

  private static Observation manifest(WindowManifest wm) throws InvalidRecordException {
    if (wm.getContainerId().isEmpty() || wm.getHost().isEmpty()) {
      throw new InvalidRecordException("WindowManifest without container_id or host");
    }
    if (wm.getWindowStartMs() <= 0 || wm.getWindowEndMs() <= wm.getWindowStartMs()) {
      throw new InvalidRecordException("WindowManifest window [" + wm.getWindowStartMs()
          + ", " + wm.getWindowEndMs() + ") is empty or before 1970");
    }
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

  private static DeadLetter deadLetter(ConsumerRecord<byte[], byte[]> record, String error) {
    DeadLetter d = new DeadLetter();
    d.topic = record.topic();
    d.partition = record.partition();
    d.offset = record.offset();
    d.timestamp = record.timestamp();
    d.key = record.key();
    d.value = record.value();
    d.error = error;
    return d;
  }

  private static String describe(Exception e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    return e instanceof InvalidRecordException
        ? message
        : e.getClass().getSimpleName() + ": " + message;
  }

  @Override
  public TypeInformation<Observation> getProducedType() {
    return TypeInformation.of(Observation.class);
  }
}
