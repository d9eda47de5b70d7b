package dev.stallwatch.jobs;

import dev.stallwatch.schemas.v1.DetectorState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The containers one detector subtask knows of, and the state it last judged each one to be in:
 * the numbers behind the {@link JobMetrics#CONTAINERS_TRACKED} and
 * {@link JobMetrics#CONTAINERS_IN_STATE} gauges.
 *
 * <p>Metric bookkeeping only, never read by the detection: it is not checkpointed, so after a
 * restore it starts empty and fills again as records arrive and windows are evaluated (every
 * container with state has a timer, so each one is back within a window of event time). Entries
 * go when the detector forgets a container, so the counts never exceed the keys on the subtask
 * and never go negative. Written by the task thread; the counts are read by reporter threads.
 */
final class TrackedContainers {

  /** The states a judged container can be in: one gauge each. */
  static final List<DetectorState> STATES = List.of(
      DetectorState.HEALTHY, DetectorState.SPIKING, DetectorState.DRAINED, DetectorState.STUCK,
      DetectorState.ALERTING);

  /** Container ID → last judged state; null until its first window since this task started. */
  private final Map<String, DetectorState> lastState = new HashMap<>();
  private final AtomicIntegerArray inState = new AtomicIntegerArray(DetectorState.values().length);
  private volatile int tracked;

  /** The container has state on this subtask (a record or a timer of it was seen). */
  void seen(String containerId) {
    if (!lastState.containsKey(containerId)) {
      lastState.put(containerId, null);
      tracked = lastState.size();
    }
  }

  /** The detector evaluated a window of the container and left it in {@code state}. */
  void judged(String containerId, DetectorState state) {
    DetectorState before = lastState.put(containerId, state);
    if (before == state) {
      return;
    }
    if (before != null) {
      inState.decrementAndGet(before.ordinal());
    }
    inState.incrementAndGet(state.ordinal());
    tracked = lastState.size();
  }

  /** The detector cleared the container's state. */
  void forget(String containerId) {
    if (!lastState.containsKey(containerId)) {
      return;
    }
    DetectorState before = lastState.remove(containerId);
    if (before != null) {
      inState.decrementAndGet(before.ordinal());
    }
    tracked = lastState.size();
  }

  /** Containers with state on this subtask, as far as it has seen them since it started. */
  int tracked() {
    return tracked;
  }

  /** Containers whose last evaluated window left them in {@code state}. */
  int inState(DetectorState state) {
    return inState.get(state.ordinal());
  }
}
