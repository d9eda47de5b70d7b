package dev.stallwatch.incidents.notify;

import java.util.Objects;

/**
 * Where an alert record sat on the alerts topic, with its bytes, so that a dead letter carries
 * the original.
 */
public record AlertSource(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
  public AlertSource {
    Objects.requireNonNull(topic, "topic");
  }

  @Override
  public String toString() {
    return topic + "-" + partition + "@" + offset;
  }
}
