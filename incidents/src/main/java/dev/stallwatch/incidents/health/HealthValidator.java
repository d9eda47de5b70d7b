package dev.stallwatch.incidents.health;

import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import java.time.Instant;
import java.util.Optional;

/**
 * What makes a {@link ContainerHealth} unusable as a row. Everything else (zero CPU, no
 * signature, no pod) is an ordinary window.
 */
public final class HealthValidator {
  // the partitions are named by four-digit years; anything outside is a broken clock or encoder
  private static final long EARLIEST_MS = Instant.parse("1970-01-01T00:00:00Z").toEpochMilli();
  private static final long LATEST_MS = Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();

  private HealthValidator() {}

  /** Why the record cannot be stored, in one line; empty when it can. */
  public static Optional<String> problem(ContainerHealth h) {
    if (h.getContainerId().isEmpty()) {
      return Optional.of("container_id is empty");
    }
    if (h.getWindowEndMs() <= h.getWindowStartMs()) {
      return Optional.of("window_end_ms " + h.getWindowEndMs() + " is not after window_start_ms "
          + h.getWindowStartMs());
    }
    if (h.getWindowStartMs() < EARLIEST_MS || h.getWindowEndMs() > LATEST_MS) {
      return Optional.of("window [" + h.getWindowStartMs() + ", " + h.getWindowEndMs()
          + ") ms is outside 1970..9999");
    }
    if (h.getDetectorState() == DetectorState.DETECTOR_STATE_UNSPECIFIED) {
      return Optional.of("detector_state is unspecified");
    }
    if (h.getDetectorState() == DetectorState.UNRECOGNIZED) {
      return Optional.of("detector_state " + h.getDetectorStateValue() + " is unknown to this version");
    }
    return Optional.empty();
  }
}
