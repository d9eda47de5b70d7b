package dev.stallwatch.jobs;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * A deadlock alert on its way to Kafka: the Avro single-object encoding of a {@link
 * DeadlockAlert} plus the fields the sink and tests need without decoding. A Flink POJO, so the
 * Avro class never goes through Kryo.
 */
public class AlertRecord {

  public String containerId;
  public String incidentId;
  /** OPEN or RESOLVED. */
  public String eventType;
  /** detectedAt for OPEN, resolvedAt for RESOLVED; epoch ms. */
  public long eventTime;
  /** {@link DeadlockAlert#toByteBuffer()} bytes. */
  public byte[] payload;

  public AlertRecord() {}

  public static AlertRecord of(DeadlockAlert alert) {
    AlertRecord r = new AlertRecord();
    r.containerId = alert.getContainerId();
    r.incidentId = alert.getIncidentId();
    r.eventType = alert.getEventType().name();
    r.eventTime = (alert.getResolvedAt() != null ? alert.getResolvedAt() : alert.getDetectedAt())
        .toEpochMilli();
    r.payload = encode(alert);
    return r;
  }

  public DeadlockAlert alert() {
    return decode(payload);
  }

  static byte[] encode(DeadlockAlert alert) {
    try {
      ByteBuffer buffer = alert.toByteBuffer();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode alert " + alert.getIncidentId(), e);
    }
  }

  static DeadlockAlert decode(byte[] payload) {
    try {
      return DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(payload));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode alert", e);
    }
  }

  @Override
  public String toString() {
    return eventType + " " + incidentId + " " + containerId + " @" + eventTime;
  }
}
