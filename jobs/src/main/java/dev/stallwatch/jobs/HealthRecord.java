package dev.stallwatch.jobs;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stallwatch.schemas.v1.ContainerHealth;

/**
 * A {@link ContainerHealth} on its way to Kafka: the protobuf bytes plus the key. A Flink POJO,
 * so the protobuf class never goes through Kryo.
 */
public class HealthRecord {

  public String containerId;
  /** {@link ContainerHealth#toByteArray()} bytes. */
  public byte[] payload;

  public HealthRecord() {}

  public static HealthRecord of(ContainerHealth health) {
    HealthRecord r = new HealthRecord();
    r.containerId = health.getContainerId();
    r.payload = health.toByteArray();
    return r;
  }

  public ContainerHealth health() {
    try {
      return ContainerHealth.parseFrom(payload);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot decode container health of " + containerId, e);
    }
  }

  @Override
  public String toString() {
    return "health " + containerId;
  }
}
